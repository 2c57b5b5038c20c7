// @threadlink/core — public API. Everything not re-exported here is internal.
export * from './domain/schemas.js';
export * from './errors.js';
export * from './events.js';
export * from './logger.js';
export type * from './ports/mail-provider.js';
export type * from './ports/metadata-store.js';
export type * from './ports/record-resolver.js';
export type * from './ports/job-queue.js';
export { JOB_NAMES } from './ports/job-queue.js';
export { createSealer, generateSealingKey, type Sealer, type SealingKey } from './security/sealing.js';
export { sanitizeEmailHtml, type SanitizeOptions } from './security/sanitize.js';
export { constantTimeEqual, sha256Hex, stableId } from './security/hash.js';
export { systemClock, randomId, type Clock } from './util/clock.js';
export { backoffDelay, parseRetryAfter, withRetry, httpStatusError, type RetryOptions, type BackoffOptions } from './util/retry.js';
export { mapWithConcurrency, chunk } from './util/concurrency.js';
export { replyRecipients, type ReplyRecipients, type ReplyRecipientsInput } from './util/reply-recipients.js';
export { mapMessageOrSkip } from './util/unfit-message.js';
export { parseProviderOptions } from './util/provider-options.js';
export { bindProvider, type ProviderOperations } from './util/provider-operations.js';
export { sendOnce, sendMayHaveGoneOut, providerAnswered, type SendCheck, type SendOnceOptions } from './util/send-once.js';
export {
  decodeMimeWords,
  parseAddress,
  parseAddressList,
  parseMessageIdList,
  normalizeSubject,
  replySubject,
  domainOf,
} from './util/headers.js';
export {
  parseStoreInput,
  parseStoredMessage,
  parseStoredLink,
  parseStoredConnection,
  parseHealthPatch,
  applyConnectionPatch,
  recordKey,
  linkKey,
  messageAddresses,
  messageDomains,
  dedupeLinks,
  keyNamesConnection,
  isExpired,
  compareIds,
  encodeKeysetCursor,
  decodeKeysetCursor,
  assertPageLimit,
  checkLeaseRequest,
  checkClaimRequest,
  MAX_PAGE_LIMIT,
} from './util/store-rules.js';
export { getMessage, listThread } from './store/reads.js';
export {
  requireTenant,
  stringList,
  connectionIdList,
  parseRecordRef,
  parseLinksToAdd,
  parseManualLink,
  parseIndexLookup,
  parseTimelineQuery,
  type IndexLookup,
  type TimelineLookup,
} from './store/arguments.js';
export {
  parseSyncBatch,
  validateSyncBatch,
  assignStoredIds,
  syncResult,
  type ParsedSyncBatch,
  type ValidatedSyncBatch,
  type StoredIdLookup,
  type PlannedUpsert,
  type SyncPlan,
} from './store/sync-batch.js';
export { keysetPage } from './store/paging.js';
export { createThreadlink } from './threadlink.js';
export type {
  Threadlink,
  ThreadlinkConfig,
  ThreadlinkHandler,
  ThreadlinkEventListeners,
  ConnectStartInput,
  ConnectCompleteInput,
  ReadScope,
  Scope,
  UserScope,
  AdminScope,
  ConnectCookie,
  ConnectStartResult,
  ConnectSession,
  DisconnectOptions,
  DisconnectResult,
  MaintenanceReport,
  TimelineInput,
  BodyInput,
  DraftContext,
  ManualLinkInput,
} from './api.js';
export { assertReplyHasContent } from './messages/reply-content.js';

export { toNodeHandler, type NodeHandlerOptions, type WebHandler } from './http/node.js';
export { inProcessQueue, type InProcessQueueOptions } from './queue/in-process-queue.js';
export { Scheduler } from './engine/scheduler.js';
export { SyncEngine, defaultEngineOptions, messageIdFor, threadIdFor, type EngineOptions } from './engine/sync-engine.js';
export { chronological, dedupeThreads, DEFAULT_WHOLE_THREAD_TYPES, type TimelineResult, type TimelineThread } from './timeline/timeline.js';
export { pkceChallenge } from './connect/state.js';
export * from './matching/index.js';
export { assessHealth, HealthVerdict, type ConnectionHealth, type HealthThresholds } from './health/health.js';
export { createTelemetry, type Telemetry } from './observability/telemetry.js';
