// @threadlink/core — what a host imports: createThreadlink, its config and result types, the HTTP glue,
// errors, events, logging, sealing keys, the HTML sanitizer, and the ports a host plugs implementations into.
// Provider adapters import from `@threadlink/core/provider`, store backends from `@threadlink/core/store`,
// tests and benchmarks reach internals through `@threadlink/core/testing`. Everything else is internal.
// The zod schemas are the vocabulary of every audience, so each entry re-exports them.
export * from './domain/schemas.js';
export * from './domain/organization.js';
export * from './domain/policy.js';
export * from './errors.js';
export { THREADLINK_EVENT_NAMES, type PublicConnection, type ThreadlinkEventName, type ThreadlinkEvents } from './events.js';
export { consoleJsonLogger, silentLogger, type LogFields, type Logger, type LogLevel } from './logger.js';

export { createThreadlink } from './threadlink.js';
export type {
  Threadlink,
  ThreadlinkConfig,
  InstanceHealth,
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
  AttachmentInput,
  AttachmentDownload,
  ComposeInput,
  ComposeResult,
  ForwardInput,
  DraftContext,
  DraftContextOptions,
  DraftContextMessage,
  DraftBudget,
  ContactSuggestion,
  ContactSuggestOptions,
  ManualLinkInput,
} from './api.js';
// Types that appear in ThreadlinkConfig or in what a Threadlink returns.
export type { EngineOptions } from './engine/sync-engine.js';
export type { MatchingOptions } from './matching/index.js';
export type { ConnectionHealth, HealthThresholds, HealthVerdict } from './health/health.js';
export type { TimelineResult, TimelineThread } from './timeline/timeline.js';
export type { LabeledMessage } from './labels/names.js';
export type { ConnectionLabel, ExportRecord, PurgeReport, StoredMessage } from './ports/metadata-store.js';
export type { PolicyChangeReport, PolicyPreview, PolicyTarget, PolicyView } from './policy/commands.js';
export type {
  OrgCommands,
  OrgConnectStartInput,
  OrgConnectStartResult,
  OrgDirectConnectInput,
  OrgHealth,
  OrgMailboxChange,
  OrgMailboxHealth,
  OrgSyncReport,
  PublicOrganization,
} from './org/types.js';
export type { Clock } from './util/clock.js';
export type { BackoffOptions } from './util/retry.js';

export { toNodeHandler, type NodeHandlerOptions, type WebHandler } from './http/node.js';
export { createSealer, generateSealingKey, type Sealer, type SealingKey } from './security/sealing.js';
export { sanitizeEmailHtml, type SanitizeOptions } from './security/sanitize.js';
export { attachmentResponseHeaders, safeAttachmentContentType, sanitizeAttachmentFilename } from './security/attachment-headers.js';
export { CHARACTERS_PER_TOKEN } from './messages/draft-context.js';

// The ports a host fills: providers and a store come from their own packages (only their types are named here),
// the record resolver and the job queue are often the host's own code.
export type { MailProvider } from './ports/mail-provider.js';
export type { MetadataStore } from './ports/metadata-store.js';
export type { RecordResolver, ResolvedRecord } from './ports/record-resolver.js';
export { createMemoryResolver, type MemoryRecord, type MemoryResolver } from './matching/memory-resolver.js';
export { JOB_NAMES, type EnqueueOptions, type Job, type JobHandler, type JobName, type JobQueue } from './ports/job-queue.js';
export { inProcessQueue, type InProcessQueueOptions } from './queue/in-process-queue.js';
