// The OAuth callbacks as HTTP routes (a user's connect at /oauth/callback, an organization's admin
// consent at /connect/org/callback): completes the flow if this browser holds its connect cookie,
// then sends the browser back to the host's page (same origin only) with the outcome, or answers
// JSON when no page was given. Every answer clears the connect cookies the request carried: a flow
// ends here whatever its outcome.
import type { CoreContext } from '../context.js';
import { ThreadlinkError, toThreadlinkError } from '../errors.js';
import { errorResponse, jsonResponse } from '../http/handler.js';
import { bindingCookieName, clearingHeader, connectCookieNames, parseCookieHeader, type CookieSettings } from './binding.js';
import type { CompleteConnection } from './complete.js';
import { isSafeReturn } from './return-to.js';
import { openState } from './state.js';

/** What a completed flow tells the browser: the query parameter of the redirect, or the JSON body. */
interface CallbackOutcome {
  redirect: { key: string; value: string };
  body: unknown;
}

export interface CallbackRoute {
  /** Where this flow's connect cookie lives. */
  cookie: CookieSettings;
  /** The public message when completing fails unexpectedly. */
  failure: string;
  complete(url: URL, cookies: Map<string, string>): Promise<CallbackOutcome>;
}

export function createCallbackRoute(context: CoreContext, route: CallbackRoute): (request: Request) => Promise<Response> {
  const { origin } = context.urls;

  const redirect = (returnTo: string, key: string, value: string): Response => {
    const target = new URL(returnTo, origin);
    target.searchParams.set(key, value);
    return new Response(null, { status: 302, headers: { location: target.toString() } });
  };

  const clearCookies = (response: Response, names: Iterable<string>): Response => {
    for (const name of new Set(names)) response.headers.append('set-cookie', clearingHeader(name, route.cookie));
    return response;
  };

  return async function callback(request) {
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
      const outcome = await route.complete(url, cookies);
      if (returnTo && isSafeReturn(returnTo, origin)) return clearCookies(redirect(returnTo, outcome.redirect.key, outcome.redirect.value), toClear);
      return clearCookies(jsonResponse(200, outcome.body), toClear);
    } catch (raw) {
      const error = toThreadlinkError(raw);
      context.logger.warn('oauth callback failed', { code: error.code });
      if (returnTo && isSafeReturn(returnTo, origin)) return clearCookies(redirect(returnTo, 'error', error.code), toClear);
      return clearCookies(errorResponse(error.code === 'INTERNAL' ? new ThreadlinkError('OAUTH_FAILED', route.failure) : error), toClear);
    }
  };
}

export function createOAuthCallback(context: CoreContext, complete: CompleteConnection): (request: Request) => Promise<Response> {
  return createCallbackRoute(context, {
    cookie: context.connectCookie,
    failure: 'Connecting the mailbox failed',
    async complete(url, cookies) {
      const connection = await complete(url, { cookies });
      return {
        redirect: { key: 'connected', value: connection.id },
        body: { connection: { id: connection.id, provider: connection.provider, accountEmail: connection.accountEmail, status: connection.status } },
      };
    },
  });
}
