// The shared MetadataStore conformance suite, on embedded PGlite and on a real PostgreSQL server.
// `raw` reads every table straight from the database, so purge, atomicity and the privacy
// canary are judged on the rows really written. Each run has its own random schema, emptied
// between tests.
import { runStoreConformance } from '@threadlink/testing';
import { describe, it } from 'vitest';
import { backends } from './backends.js';

for (const backend of backends) {
  if (!backend.available) {
    describe(`MetadataStore conformance: ${backend.name}`, () => {
      it.skip(`skipped: ${backend.skipReason}`, () => {});
    });
    continue;
  }
  runStoreConformance({
    name: backend.name === 'pglite' ? 'postgres (PGlite, in memory)' : 'postgres (server)',
    makeStore: () => backend.makeEmptyStore(),
    raw: (store) => store.raw,
  });
}
