// The shared MetadataStore conformance suite against the memory store, with its raw rows.
import { memoryStore, memoryStoreRaw } from '@threadlink/storage-memory';
import { runStoreConformance } from '@threadlink/testing/conformance';

runStoreConformance({
  name: 'memory',
  makeStore: async () => {
    const store = memoryStore();
    await store.init();
    return store;
  },
  raw: memoryStoreRaw,
});
