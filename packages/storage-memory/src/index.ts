// @threadlink/storage-memory — a complete MetadataStore in process memory.
export { memoryStore, memoryStoreRaw, type MemoryStore, type MemoryStoreOptions, type MemoryStoreRaw } from './store.js';
