// The Outlook adapter passes the MailProvider conformance suite every adapter must pass, against
// the Microsoft Graph + identity platform emulator over HTTP.
import { memoryStore } from '@threadlink/storage-memory';
import { graphConformanceDriver } from '@threadlink/testing';
import { runProviderConformance } from '@threadlink/testing/provider-conformance';
import { outlookProvider } from '../src/index.js';

runProviderConformance({
  name: 'outlook',
  emulator: () => graphConformanceDriver(),
  makeProvider: ({ emulator }) => outlookProvider({ ...emulator.providerOptions }),
  makeStore: () => memoryStore(),
});
