// The OAuth callback as an HTTP route: completes the connection if this browser holds the flow's
// connect cookie, then sends the browser back to the host's page (same origin only) with the
// outcome, or answers JSON when no page was given. Every answer clears the connect cookies the
// request carried: a flow ends here whatever its outcome.
import type { CoreContext } from '../context.js';
import { ThreadlinkError, toThreadlinkError } from '../errors.js';
import { errorResponse, jsonResponse } from '../http/handler.js';
import { bindingCookieName, clearingHeader, connectCookieNames, parseCookieHeader } from './binding.js';
import type { CompleteConnection } from './complete.js';
import { isSafeReturn } from './return-to.js';
import { openState } from './state.js';

export function createOAuthCallback(context: CoreContext, complete: CompleteConnection): (request: Request) => Promise<Response> {
  const { origin } = context.urls;

  const redirect = (returnTo: string, key: 'connected' | 'error', value: string): Response => {
    const target = new URL(returnTo, origin);
    target.searchParams.set(key, value);
    return new Response(null, { status: 302, headers: { location: target.toString() } });
  };

  const clearCookies = (response: Response, names: Iterable<string>): Response => {
    for (const name of new Set(names)) response.headers.append('set-cookie', clearingHeader(name, context.connectCookie));
    return response;
  };

  return async function oauthCallback(request) {
    const url = new URL(request.url);
    const cookies = parseCookieHeader(request.headers.get('cookie'));
    const toClear = connectCookieNames(cookies);
    let returnTo: string | undefined;
    try {
      const state = url.searchParams.get('state');
      if (state) {
        const opened = openState(context.sealer, state, context.clock.now());
        returnTo = opened.returnTo;
        toClear.push(bindingCookieName(opened.nonce));
      }
    } catch {
      returnTo = undefined;
    }
    try {
      const connection = await complete(url, { cookies });
      if (returnTo && isSafeReturn(returnTo, origin)) return clearCookies(redirect(returnTo, 'connected', connection.id), toClear);
      return clearCookies(
        jsonResponse(200, {
          connection: { id: connection.id, provider: connection.provider, accountEmail: connection.accountEmail, status: connection.status },
        }),
        toClear,
      );
    } catch (raw) {
      const error = toThreadlinkError(raw);
      context.logger.warn('oauth callback failed', { code: error.code });
      if (returnTo && isSafeReturn(returnTo, origin)) return clearCookies(redirect(returnTo, 'error', error.code), toClear);
      return clearCookies(errorResponse(error.code === 'INTERNAL' ? new ThreadlinkError('OAUTH_FAILED', 'Connecting the mailbox failed') : error), toClear);
    }
  };
}
