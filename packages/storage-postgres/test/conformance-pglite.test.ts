// The shared MetadataStore conformance suite on embedded PGlite (in memory). `raw` reads every
// table straight from the database, so purge, atomicity and the privacy canary are judged on the
// rows really written. The run has its own random schema, emptied between tests.
import { runStoreConformance } from '@threadlink/testing/conformance';
import { pgliteBackend } from './backends.js';

runStoreConformance({
  name: 'postgres (PGlite, in memory)',
  makeStore: () => pgliteBackend.makeEmptyStore(),
  raw: (store) => store.raw,
});
