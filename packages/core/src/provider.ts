// @threadlink/core/provider — what a mail provider adapter (@threadlink/gmail, @threadlink/outlook, a third one)
// needs: the MailProvider port and its types, and the shared helpers that keep adapters from copying each other
// (retry/backoff, send-once, header parsing, reply recipients, hashing, option parsing). A job-queue backend
// reuses the same retry helpers. Hosts import from `@threadlink/core`.
export * from './domain/schemas.js';
export * from './domain/organization.js';
export { ThreadlinkError, isThreadlinkError, toThreadlinkError, type ErrorCode } from './errors.js';
export type { Logger } from './logger.js';
export type * from './ports/mail-provider.js';
export type * from './ports/organization.js';

export { bindProvider, type ProviderOperations } from './util/provider-operations.js';
export { parseProviderOptions } from './util/provider-options.js';
export { mapMessageOrSkip } from './util/unfit-message.js';
export { backoffDelay, parseRetryAfter, withRetry, httpStatusError, type RetryOptions, type BackoffOptions } from './util/retry.js';
export { sendOnce, sendMayHaveGoneOut, providerAnswered, type SendCheck, type SendOnceOptions } from './util/send-once.js';
export { assertReplyHasContent } from './messages/reply-content.js';
export { replyRecipients, type ReplyRecipients, type ReplyRecipientsInput } from './util/reply-recipients.js';
export { decodeMimeWords, parseAddress, parseAddressList, parseMessageIdList, normalizeSubject, replySubject } from './util/headers.js';
export { mapWithConcurrency, chunk } from './util/concurrency.js';
export { systemClock, randomId, type Clock } from './util/clock.js';
export { deadlineMissed, linkedSignal, type LinkedSignal } from './util/job-signal.js';
export { constantTimeEqual, sha256Hex, stableId } from './security/hash.js';
export { sanitizeEmailHtml, type SanitizeOptions } from './security/sanitize.js';
