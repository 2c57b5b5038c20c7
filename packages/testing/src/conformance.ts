// Entry for store and queue packages: the store and queue conformance suites without loading the emulators.
export * from './conformance/index.js';
export { runQueueConformance, type QueueConformanceHooks, type QueueConformanceOptions } from './queue-conformance/index.js';
