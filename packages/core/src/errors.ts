// Every failure threadlink raises is a ThreadlinkError with a stable `code`, an explicit
// `retryable` flag and, where it reaches HTTP, the status to answer with.

export const ERROR_CODES = {
  CURSOR_EXPIRED: { retryable: false, status: 500 },
  CURSOR_CONFLICT: { retryable: true, status: 409 },
  RATE_LIMITED: { retryable: true, status: 429 },
  PROVIDER_UNAVAILABLE: { retryable: true, status: 503 },
  PROVIDER_ERROR: { retryable: false, status: 502 },
  /** A send failed without a definite answer and could not be confirmed either way: the mail may have gone out. */
  SEND_UNCONFIRMED: { retryable: false, status: 502 },
  AUTH_REVOKED: { retryable: false, status: 401 },
  INSUFFICIENT_SCOPE: { retryable: false, status: 403 },
  NOT_FOUND: { retryable: false, status: 404 },
  INVALID_INPUT: { retryable: false, status: 400 },
  WEBHOOK_UNAUTHORIZED: { retryable: false, status: 401 },
  WEBHOOK_MALFORMED: { retryable: false, status: 400 },
  PAYLOAD_TOO_LARGE: { retryable: false, status: 413 },
  /** An attachment that is not a file (an attached Outlook item, a cloud link) cannot be streamed as bytes. */
  ATTACHMENT_UNSUPPORTED: { retryable: false, status: 422 },
  /** A webhook body in a media type the provider never sends (Pub/Sub pushes are JSON). */
  UNSUPPORTED_MEDIA_TYPE: { retryable: false, status: 415 },
  OAUTH_STATE_INVALID: { retryable: false, status: 400 },
  OAUTH_FAILED: { retryable: false, status: 400 },
  /** The user granted another account than the `loginHint` connect.start was given; the grant was revoked. */
  ACCOUNT_MISMATCH: { retryable: false, status: 403 },
  /** A call that names a connection, message or record came without a tenant, or without a user or `as: 'admin'`. */
  SCOPE_REQUIRED: { retryable: false, status: 400 },
  /** An ingestion policy that does not parse; `details.rule` names the offending entry's path. */
  POLICY_INVALID: { retryable: false, status: 400 },
  SEALING_KEY_MISSING: { retryable: false, status: 500 },
  SEAL_INVALID: { retryable: false, status: 500 },
  LEASE_LOST: { retryable: true, status: 409 },
  /** The org's app may not act on this mailbox (outside an Exchange application access policy, or not delegated): reported, not retried. */
  MAILBOX_FORBIDDEN: { retryable: false, status: 403 },
  /** A user tried to connect a mailbox an organization already syncs: one connection per mailbox and tenant, so the org's stays. */
  MAILBOX_MANAGED_BY_ORGANIZATION: { retryable: false, status: 409 },
  ORGANIZATION_NOT_FOUND: { retryable: false, status: 404 },
  CONNECTION_NOT_FOUND: { retryable: false, status: 404 },
  CONNECTION_DISCONNECTED: { retryable: false, status: 409 },
  CONTENT_FORBIDDEN: { retryable: false, status: 500 },
  CONFIG_INVALID: { retryable: false, status: 500 },
  STORE_ERROR: { retryable: true, status: 500 },
  SHUTTING_DOWN: { retryable: true, status: 503 },
  INTERNAL: { retryable: false, status: 500 },
} as const satisfies Record<string, { retryable: boolean; status: number }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ThreadlinkErrorOptions {
  retryable?: boolean;
  /** Milliseconds the provider asked us to wait (Retry-After). */
  retryAfterMs?: number;
  status?: number;
  cause?: unknown;
  /** Safe, content-free details (ids, provider names, HTTP status). Never tokens or message text. */
  details?: Record<string, string | number | boolean | null>;
}

export class ThreadlinkError extends Error {
  override readonly name = 'ThreadlinkError';
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly status: number;
  readonly details: Record<string, string | number | boolean | null>;

  constructor(code: ErrorCode, message: string, options: ThreadlinkErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
    this.retryAfterMs = options.retryAfterMs;
    this.status = options.status ?? ERROR_CODES[code].status;
    this.details = options.details ?? {};
  }

  toJSON(): { code: ErrorCode; message: string; retryable: boolean } {
    return { code: this.code, message: this.message, retryable: this.retryable };
  }
}

export function isThreadlinkError(error: unknown, code?: ErrorCode): error is ThreadlinkError {
  return error instanceof ThreadlinkError && (code === undefined || error.code === code);
}

/** Wraps anything thrown into a ThreadlinkError (unknown errors are INTERNAL, not retryable). */
export function toThreadlinkError(error: unknown): ThreadlinkError {
  if (error instanceof ThreadlinkError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ThreadlinkError('INTERNAL', message, { cause: error });
}
