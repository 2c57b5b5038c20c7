// Maps what the Microsoft clients throw (GraphError from the Graph client, AuthError from
// msal-node, and the per-request answers inside a $batch, which arrive as plain statuses) to
// ThreadlinkError codes. Graph reports an expired delta token as 410 or as a SyncStateNotFound /
// SyncStateInvalid code, and a 403 is a missing permission (Graph signals throttling with 429, not
// with Gmail's 403 rateLimitExceeded).
import { AuthError, InteractionRequiredAuthError } from '@azure/msal-node';
import { GraphError } from '@microsoft/microsoft-graph-client';
import { httpStatusError, parseRetryAfter, ThreadlinkError } from '@threadlink/core/provider';

/** Exchange's refusal of a mailbox outside an application access policy: "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly AccessPolicy settings." */
const ACCESS_POLICY = /Access to OData is disabled|AppOnly AccessPolicy/i;

/** Classifies anything the Graph client throws. 410 and SyncStateNotFound/Invalid mean the delta token is gone. */
export function classifyGraphError(error: unknown, now = Date.now()): ThreadlinkError {
  if (error instanceof ThreadlinkError) return error;
  if (error instanceof GraphError) {
    const status = error.statusCode;
    const code = error.code ?? '';
    const retryAfterMs = parseRetryAfter(error.headers?.get('retry-after'), now);
    const message = `Graph ${status} ${code}: ${error.message}`.trim();
    if (status === 410 || /^syncstate(notfound|invalid)$/i.test(code)) {
      return new ThreadlinkError('CURSOR_EXPIRED', message, { cause: error, details: { status, provider: 'outlook', reason: code } });
    }
    // An app-only call on a mailbox outside the tenant's application access policy (or RBAC for
    // Applications scope): the mailbox is off limits, not a missing permission.
    if (status === 403 && ACCESS_POLICY.test(error.message)) {
      return new ThreadlinkError('MAILBOX_FORBIDDEN', message, { cause: error, details: { status, provider: 'outlook', reason: code } });
    }
    if (status === 403) {
      return new ThreadlinkError('INSUFFICIENT_SCOPE', message, { cause: error, details: { status, provider: 'outlook', reason: code } });
    }
    // The client reports transport failures (refused, reset, DNS) as status -1.
    if (status <= 0) return new ThreadlinkError('PROVIDER_UNAVAILABLE', `Graph unreachable: ${error.message}`, { cause: error });
    return httpStatusError(status, message, { provider: 'outlook', reason: code, cause: error, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
  }
  if (error instanceof TypeError) return new ThreadlinkError('PROVIDER_UNAVAILABLE', `Graph unreachable: ${error.message}`, { cause: error });
  return new ThreadlinkError('INTERNAL', error instanceof Error ? error.message : String(error), { cause: error });
}

/** Maps an msal-node failure to a ThreadlinkError. `exchange` marks the code-redemption step. */
export function msalError(error: unknown, step: 'exchange' | 'refresh'): ThreadlinkError {
  if (error instanceof ThreadlinkError) return error;
  const code = error instanceof AuthError ? error.errorCode : '';
  const subError = error instanceof AuthError ? error.subError : '';
  const details = { provider: 'outlook', msalCode: code || null, subError: subError || null };
  const message = error instanceof Error ? error.message : String(error);
  // A failed code redemption is a failed sign-in, not a lost grant.
  if (step === 'exchange') {
    const networkFailure = code === 'network_error' || code === 'endpoints_resolution_error';
    return new ThreadlinkError(networkFailure ? 'PROVIDER_UNAVAILABLE' : 'OAUTH_FAILED', `Microsoft sign-in failed: ${message}`, { cause: error, details });
  }
  // invalid_grant: refresh token revoked, expired (90 days idle) or password reset; interaction
  // required: consent withdrawn or conditional access. Either way only the user can fix it.
  if (error instanceof InteractionRequiredAuthError || code === 'invalid_grant' || code === 'no_tokens_found' || code === 'no_account_found') {
    return new ThreadlinkError('AUTH_REVOKED', 'The Microsoft grant is no longer valid; the user must reconnect', { cause: error, details });
  }
  if (code === 'network_error' || code === 'endpoints_resolution_error' || code === 'temporarily_unavailable' || code === 'service_unavailable') {
    return new ThreadlinkError('PROVIDER_UNAVAILABLE', `Microsoft identity platform unavailable: ${message}`, { cause: error, details });
  }
  return new ThreadlinkError('PROVIDER_ERROR', `Token refresh failed: ${message}`, { cause: error, details });
}

/**
 * An inner answer of a $batch that was not the 200 a read needs. `what` names what was being
 * read, for the message. A 404 is NOT_FOUND here; readers that take a vanished message as a
 * deletion check for it before calling this.
 */
export function batchAnswerError(status: number, what: string): ThreadlinkError {
  const details = { provider: 'outlook', status };
  if (status === 404) return new ThreadlinkError('NOT_FOUND', `The message is gone (${what})`, { details });
  if (status === 403) return new ThreadlinkError('INSUFFICIENT_SCOPE', `Graph refused ${what} (403): the grant lacks the scope it needs`, { details });
  if (status === 401) return new ThreadlinkError('AUTH_REVOKED', `Graph refused ${what}: token rejected`, { details });
  return new ThreadlinkError(status >= 500 || status === 0 ? 'PROVIDER_UNAVAILABLE' : 'PROVIDER_ERROR', `Graph answered ${status} for ${what}`, { details });
}
