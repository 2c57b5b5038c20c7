// The shared MetadataStore conformance suite on a real PostgreSQL server (DATABASE_URL; required
// when CI is set). `raw` reads every table straight from the database, so purge, atomicity and
// the privacy canary are judged on the rows really written. The run has its own random schema,
// emptied between tests and dropped afterwards.
import { runStoreConformance } from '@threadlink/testing/conformance';
import { describe, it } from 'vitest';
import { postgresBackend } from './backends.js';

if (postgresBackend.available) {
  runStoreConformance({
    name: 'postgres (server)',
    makeStore: () => postgresBackend.makeEmptyStore(),
    raw: (store) => store.raw,
  });
} else {
  describe('MetadataStore conformance: postgres (server)', () => {
    it.skip(`skipped: ${postgresBackend.skipReason} (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/test)`, () => {});
  });
}
