// @threadlink/testing — provider emulators over real HTTP on 127.0.0.1, fault injection,
// and the MetadataStore conformance suite.
export * from './gmail/index.js';
export * from './graph/index.js';
// Fixtures load anywhere; the conformance suite itself needs vitest, so it has its own entry:
// `import { runStoreConformance } from '@threadlink/testing/conformance'`.
export * from './conformance/fixtures.js';
export type { StoreRawAccess } from './conformance/raw.js';
export { Router, RequestLog, serve, defaultFaults, type FaultKnobs, type RequestLogEntry, type StartedServer } from './common/server.js';
export { serveWebHandler, type ServedHandler } from './common/serve-handler.js';
// Both emulators name their delivery input `DeliverInput`; the Gmail one keeps the bare name.
export type { DeliverInput, DeliverInput as GmailDeliverInput } from './gmail/index.js';
export type { DeliverInput as GraphDeliverInput } from './graph/index.js';
export { recordEvents, type EventRecorder, type RecordedEvent } from './common/record-events.js';
export { seededRandom, type SeededRandom } from './common/random.js';
export { consumeMeasured, memoryMeter, type MemoryMeter } from './common/memory.js';
export { generatedStream, type GeneratedStream } from './common/byte-streams.js';
// Test hosts as child processes (scale-out and deploy tests): Node only, unused by the emulators.
export { childHostConfig, startChildHost, type ChildHost, type StartChildHostOptions } from './child-host.js';
