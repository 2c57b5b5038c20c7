// The Gmail adapter passes the MailProvider conformance suite every adapter must pass, against
// the Gmail + Pub/Sub emulator over HTTP.
import { memoryStore } from '@threadlink/storage-memory';
import { gmailConformanceDriver } from '@threadlink/testing';
import { runProviderConformance } from '@threadlink/testing/provider-conformance';
import { gmailProvider } from '../src/index.js';

runProviderConformance({
  name: 'gmail',
  emulator: () => gmailConformanceDriver(),
  // Short retry waits: the backoff logic runs, the waits are milliseconds.
  makeProvider: ({ emulator }) => gmailProvider({ ...emulator.providerOptions, retry: { baseMs: 5, maxMs: 50 } }),
  makeStore: () => memoryStore(),
});
