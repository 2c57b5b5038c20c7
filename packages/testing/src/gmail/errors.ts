// Google's JSON error envelope, as the Gmail API returns it:
// {"error":{"code":404,"message":"Requested entity was not found.",
//   "errors":[{"message":"…","domain":"global","reason":"notFound"}],"status":"NOT_FOUND"}}
// Clients (gaxios, googleapis-common) surface `code`, `errors[0].reason` and `status`,
// so adapters classify failures by them; every field here is observable.
import type { EmulatorResponse } from '../common/server.js';

const STATUS_BY_CODE: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  412: 'FAILED_PRECONDITION',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

export interface GoogleErrorOptions {
  domain?: string;
  status?: string;
  location?: string;
  locationType?: string;
  headers?: Record<string, string>;
  details?: unknown[];
  /** The top-level `message` when it differs from `errors[0].message`. */
  topMessage?: string;
}

export function googleError(code: number, message: string, reason: string, options: GoogleErrorOptions = {}): EmulatorResponse {
  const item: Record<string, string> = { message, domain: options.domain ?? 'global', reason };
  if (options.location !== undefined) item['location'] = options.location;
  if (options.locationType !== undefined) item['locationType'] = options.locationType;
  const error: Record<string, unknown> = {
    code,
    message: options.topMessage ?? message,
    errors: [item],
    status: options.status ?? STATUS_BY_CODE[code] ?? 'UNKNOWN',
  };
  if (options.details !== undefined) error['details'] = options.details;
  return {
    status: code,
    headers: { 'content-type': 'application/json; charset=UTF-8', ...(options.headers ?? {}) },
    body: { error },
  };
}

export const notFound = (): EmulatorResponse => googleError(404, 'Requested entity was not found.', 'notFound');

/** labels.create/patch/update with a name already taken (case-insensitively) or reserved by a system label. */
export const labelNameConflict = (): EmulatorResponse => googleError(409, 'Label name exists or conflicts', 'aborted');

export const invalidArgument = (message: string): EmulatorResponse => googleError(400, message, 'invalidArgument');

export const backendError = (): EmulatorResponse => googleError(503, 'The service is currently unavailable.', 'backendError');

const LOGIN_HINT =
  'Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';

/** No Authorization header at all. */
export const loginRequired = (): EmulatorResponse =>
  googleError(401, 'Login Required.', 'required', {
    topMessage: `Request is missing required authentication credential. ${LOGIN_HINT}`,
    location: 'Authorization',
    locationType: 'header',
    headers: { 'www-authenticate': 'Bearer realm="https://accounts.google.com/"' },
  });

/** Unknown, expired or revoked access token. */
export const invalidCredentials = (): EmulatorResponse =>
  googleError(401, 'Invalid Credentials', 'authError', {
    topMessage: `Request had invalid authentication credentials. ${LOGIN_HINT}`,
    location: 'Authorization',
    locationType: 'header',
    headers: { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
  });

export const insufficientScopes = (method: string, requiredScopes: readonly string[]): EmulatorResponse =>
  googleError(403, 'Insufficient Permission', 'insufficientPermissions', {
    topMessage: 'Request had insufficient authentication scopes.',
    headers: {
      'www-authenticate': `Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="${requiredScopes.join(' ')}"`,
    },
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT',
        domain: 'googleapis.com',
        metadata: { method: `caribou.api.proto.MailboxService.${method}`, service: 'gmail.googleapis.com' },
      },
    ],
  });

/** `gmail.metadata` tokens may not read bodies or search (the real texts, seen in client code and issues). */
export const metadataScopeFormat = (format: string): EmulatorResponse =>
  googleError(403, `Metadata scope doesn't allow format ${format.toUpperCase()}`, 'forbidden');

export const metadataScopeQuery = (): EmulatorResponse => googleError(403, "Metadata scope does not support 'q' parameter", 'forbidden');

export const delegationDenied = (userId: string): EmulatorResponse => googleError(403, `Delegation denied for ${userId}`, 'forbidden');

/**
 * Gmail's per-user rate limit answers either as 429 RESOURCE_EXHAUSTED (reason
 * `rateLimitExceeded`, the common shape today) or as the older 403 with reason
 * `userRateLimitExceeded`; adapters must classify both as retryable.
 * developers.google.com/workspace/gmail/api/guides/handle-errors
 */
export function rateLimited(status: 403 | 429, retryAfter: Date): EmulatorResponse {
  if (status === 403) {
    return googleError(403, 'User Rate Limit Exceeded', 'userRateLimitExceeded', {
      domain: 'usageLimits',
      status: 'PERMISSION_DENIED',
    });
  }
  return googleError(429, `User-rate limit exceeded.  Retry after ${retryAfter.toISOString()}`, 'rateLimitExceeded', {
    domain: 'usageLimits',
    status: 'RESOURCE_EXHAUSTED',
  });
}
