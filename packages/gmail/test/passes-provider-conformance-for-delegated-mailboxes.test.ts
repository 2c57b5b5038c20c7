// The Gmail adapter passes the MailProvider conformance suite for organization mailboxes too: each
// case's mailboxes are users of a Workspace domain, connected by `tl.org.connect.direct` with a
// service account authorised by domain-wide delegation (JWT-bearer tokens, no user consent).
import { memoryStore } from '@threadlink/storage-memory';
import { gmailConformanceDriver } from '@threadlink/testing';
import { runProviderConformance } from '@threadlink/testing/provider-conformance';
import { gmailProvider } from '../src/index.js';

runProviderConformance({
  name: 'gmail (domain-wide delegation)',
  emulator: () => gmailConformanceDriver({ organization: true }),
  makeProvider: ({ emulator }) => gmailProvider({ ...emulator.providerOptions, retry: { baseMs: 5, maxMs: 50 } }),
  makeStore: () => memoryStore(),
});
