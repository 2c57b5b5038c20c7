// @threadlink/core/testing — for tests, benchmarks and diagnostics, not for production code paths:
// the parts behind a Threadlink, and the id scheme the engine stores messages under.
export { internalsOf, type ThreadlinkInternals } from './internals.js';
export { messageIdFor } from './engine/sync-engine.js';
