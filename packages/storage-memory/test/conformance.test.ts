// The shared MetadataStore conformance suite against the memory store, with its raw rows.
import { memoryStore, memoryStoreRaw } from '@threadlink/storage-memory';
import { runStoreConformance } from '../../testing/src/conformance/index.js'; // TEMP: '@threadlink/testing' once its index resolves

runStoreConformance({
  name: 'memory',
  makeStore: async () => {
    const store = memoryStore();
    await store.init();
    return store;
  },
  raw: memoryStoreRaw,
});
