// Maps what the Google clients throw (GaxiosError and friends) to ThreadlinkError codes.
// Gmail signals throttling as 429 *or* 403 with reason rateLimitExceeded / userRateLimitExceeded
// (developers.google.com/workspace/gmail/api/guides/handle-errors), and a 403 is also a genuine
// permission error, so 403s are classified by reason, never by status alone.
import { httpStatusError, parseRetryAfter, ThreadlinkError } from '@threadlink/core/provider';

const RATE_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded', 'concurrentLimitExceeded', 'RATE_LIMIT_EXCEEDED']);
/** OAuth token-endpoint errors that mean the grant is gone: the user must connect again. */
const REVOKED_GRANT_ERRORS = new Set(['invalid_grant', 'unauthorized_client']);

interface GoogleErrorShape {
  status: number | undefined;
  reasons: string[];
  apiStatus: string | undefined;
  oauthError: string | undefined;
  retryAfter: string | undefined;
  message: string;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
}

function parseMaybeJson(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined;
  }
}

function headerValue(headers: unknown, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = asRecord(headers)?.[name];
  return typeof value === 'string' ? value : undefined;
}

/** Reads status, reasons and the OAuth error from a Google error response, whatever its shape. */
export function describeGoogleError(error: unknown): GoogleErrorShape {
  const record = asRecord(error) ?? {};
  const response = asRecord(record.response);
  const status = typeof response?.status === 'number' ? response.status : typeof record.status === 'number' ? record.status : undefined;
  const data = asRecord(parseMaybeJson(response?.data));
  const apiError = asRecord(data?.error);
  const reasons = Array.isArray(apiError?.errors)
    ? apiError.errors.map((item) => asRecord(item)?.reason).filter((reason): reason is string => typeof reason === 'string')
    : [];
  const details = Array.isArray(apiError?.details) ? apiError.details.map(asRecord) : [];
  for (const detail of details) if (typeof detail?.reason === 'string') reasons.push(detail.reason);
  return {
    status,
    reasons,
    apiStatus: typeof apiError?.status === 'string' ? apiError.status : undefined,
    oauthError: typeof data?.error === 'string' ? data.error : undefined,
    retryAfter: headerValue(response?.headers, 'retry-after'),
    message: typeof apiError?.message === 'string' ? apiError.message : error instanceof Error ? error.message : String(error),
  };
}

function isRateLimitShape(shape: Pick<GoogleErrorShape, 'status' | 'reasons' | 'apiStatus'>): boolean {
  if (shape.status === 429) return true;
  return shape.status === 403 && (shape.reasons.some((reason) => RATE_REASONS.has(reason)) || shape.apiStatus === 'RESOURCE_EXHAUSTED');
}

/** Gmail's throttling message names the moment instead of a header: "Retry after 2025-01-01T00:00:05.000Z". */
function retryAfterFromMessage(message: string, now: number): number | undefined {
  const at = /retry after (\S+)/i.exec(message)?.[1];
  const parsed = at === undefined ? Number.NaN : Date.parse(at);
  // Only trusted within Google's own backoff ceiling: a skewed clock must not park a call for hours.
  return Number.isNaN(parsed) || parsed - now > 64_000 ? undefined : Math.max(0, parsed - now);
}

/** Classifies anything a Gmail or OAuth call threw. */
export function classifyGoogleError(error: unknown, now = Date.now()): ThreadlinkError {
  if (error instanceof ThreadlinkError) return error;
  const shape = describeGoogleError(error);
  const details = { provider: 'gmail', status: shape.status ?? null, reason: shape.reasons[0] ?? shape.oauthError ?? null };
  const retryAfterMs = parseRetryAfter(shape.retryAfter, now) ?? retryAfterFromMessage(shape.message, now);
  const retry = retryAfterMs === undefined ? {} : { retryAfterMs };

  if (shape.oauthError !== undefined && REVOKED_GRANT_ERRORS.has(shape.oauthError)) {
    return new ThreadlinkError('AUTH_REVOKED', `Google refused the refresh token (${shape.oauthError}); the user must reconnect`, {
      cause: error,
      details,
    });
  }
  if (shape.status === undefined) {
    // google-auth-library throws plain Errors when it has nothing to refresh with.
    if (/no refresh token|no access, refresh token/i.test(shape.message)) {
      return new ThreadlinkError('AUTH_REVOKED', 'The Gmail connection has no usable token; the user must reconnect', { cause: error, details });
    }
    // No HTTP answer at all: connection refused/reset, DNS, timeout.
    return new ThreadlinkError('PROVIDER_UNAVAILABLE', `Gmail could not be reached: ${shape.message}`, { cause: error, details });
  }
  if (isRateLimitShape(shape)) {
    return new ThreadlinkError('RATE_LIMITED', `Gmail rate limit (${shape.status} ${details.reason ?? ''})`.trim(), { cause: error, details, ...retry });
  }
  if (shape.status === 403) {
    return new ThreadlinkError('INSUFFICIENT_SCOPE', `Gmail refused the call: ${shape.message}`, { cause: error, details });
  }
  return httpStatusError(shape.status, `Gmail answered ${shape.status}: ${shape.message}`, {
    cause: error,
    provider: 'gmail',
    ...(details.reason === null ? {} : { reason: details.reason }),
    ...retry,
  });
}

export function statusOf(error: unknown): number | undefined {
  return describeGoogleError(error).status;
}
