// The OAuth callback as an HTTP route: completes the connection, then sends the browser back to
// the host's page (same origin only) with the outcome, or answers JSON when no page was given.
import type { PublicConnection } from '../events.js';
import type { ConnectCompleteInput } from '../api.js';
import type { CoreContext } from '../context.js';
import { ThreadlinkError, toThreadlinkError } from '../errors.js';
import { errorResponse, jsonResponse } from '../http/handler.js';
import { openState } from './state.js';

export function createOAuthCallback(context: CoreContext, complete: (input: ConnectCompleteInput) => Promise<PublicConnection>): (url: URL) => Promise<Response> {
  const { origin } = context.urls;

  const isSafeReturn = (returnTo: string): boolean => {
    try {
      // Judge the URL the browser will actually follow: WHATWG parsing reads "/\evil.test" as
      // "//evil.test", so a prefix check on the raw string is an open redirect.
      return new URL(returnTo, origin).origin === origin;
    } catch {
      return false;
    }
  };

  const redirect = (returnTo: string, key: 'connected' | 'error', value: string): Response => {
    const target = new URL(returnTo, origin);
    target.searchParams.set(key, value);
    return new Response(null, { status: 302, headers: { location: target.toString() } });
  };

  return async function oauthCallback(url) {
    let returnTo: string | undefined;
    try {
      const state = url.searchParams.get('state');
      if (state) returnTo = openState(context.sealer, state, context.clock.now()).returnTo;
    } catch {
      returnTo = undefined;
    }
    try {
      const connection = await complete(url);
      if (returnTo && isSafeReturn(returnTo)) return redirect(returnTo, 'connected', connection.id);
      return jsonResponse(200, { connection: { id: connection.id, provider: connection.provider, accountEmail: connection.accountEmail, status: connection.status } });
    } catch (raw) {
      const error = toThreadlinkError(raw);
      context.logger.warn('oauth callback failed', { code: error.code });
      if (returnTo && isSafeReturn(returnTo)) return redirect(returnTo, 'error', error.code);
      return errorResponse(error.code === 'INTERNAL' ? new ThreadlinkError('OAUTH_FAILED', 'Connecting the mailbox failed') : error);
    }
  };
}
