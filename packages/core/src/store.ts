// @threadlink/core/store — what a MetadataStore backend (@threadlink/storage-memory, @threadlink/storage-postgres,
// a third one) needs: the port and its types, the store rules every backend applies the same way, the argument
// parsers, the sync-batch validation, keyset paging, and the reads derived from the port (getMessage, listThread).
// Hosts import from `@threadlink/core`.
export * from './domain/schemas.js';
export * from './domain/organization.js';
export { ThreadlinkError, isThreadlinkError, type ErrorCode } from './errors.js';
export type { PublicConnection } from './events.js';
export type * from './ports/metadata-store.js';
export * from './domain/policy.js';
export { parsePolicyToSave, parseStoredPolicy, parsePurgeIds, MAX_PURGE_IDS } from './store/policy-arguments.js';

export {
  parseStoreInput,
  parseStoredMessage,
  parseStoredLink,
  parseStoredConnection,
  parseStoredOrganization,
  parseDueLimit,
  parseHealthPatch,
  parseLabelDirectory,
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
  PUSH_TAKING_STATUSES,
} from './util/store-rules.js';
export { domainOf, keepThreadingHeaders } from './util/headers.js';
export { stableId } from './security/hash.js';
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
  parseParticipantActivityQuery,
  compareParticipantActivity,
  type ParticipantActivityLookup,
  type IndexLookup,
  type TimelineLookup,
} from './store/arguments.js';
export {
  parseSyncBatch,
  validateSyncBatch,
  withThreadLinks,
  threadIdsToRead,
  assignStoredIds,
  syncResult,
  type ParsedSyncBatch,
  type ValidatedSyncBatch,
  type StoredIdLookup,
  type PlannedUpsert,
  type SyncPlan,
} from './store/sync-batch.js';
export { keysetPage } from './store/paging.js';
export { mapWithConcurrency } from './util/concurrency.js';
export { groupCommit } from './util/group-commit.js';
