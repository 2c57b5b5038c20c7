// Entry for store packages: the conformance suite without loading the emulators.
export * from './conformance/index.js';
