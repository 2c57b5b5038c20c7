// @threadlink/core/testing — for tests, benchmarks and diagnostics, not for production code paths:
// the parts behind a Threadlink, the id scheme the engine stores messages under, the matcher on its own,
// and the engine's defaults.
export { internalsOf, type ThreadlinkInternals } from './internals.js';
export { defaultEngineOptions, messageIdFor, threadIdFor } from './engine/sync-engine.js';
export { reconciliationIntervalMs, renewalDueAt } from './engine/idle-cadence.js';
export { createMatcher, type Matcher } from './matching/matcher.js';
export { pkceChallenge } from './connect/state.js';
