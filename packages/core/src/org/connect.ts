// An organization's admin-consent flow (issue 19, phase 2), built on the user connect flow's parts
// (connect/state.ts, binding.ts, return-to.ts, callback.ts): `tl.org.connect.start` seals the
// selection into an expiring, single-use state bound to the admin's browser by a connect cookie
// scoped to `${publicUrl}/connect/org/callback`; that route (served by tl.handler) checks the
// cookie, claims the state, lets the adapter complete the consent (`completeAdminConsent`), saves
// the org `active` (the same tenant + directory is re-activated, keeping its id and mailboxes),
// opens its mailboxes in the background (`tl.org.sync`'s work) and redirects to `returnTo`.
import { z } from 'zod';
import type { CoreContext } from '../context.js';
import type { CookieSettings } from '../connect/binding.js';
import { createCallbackRoute } from '../connect/callback.js';
import { claimFlow } from '../connect/complete.js';
import { isSafeReturn } from '../connect/return-to.js';
import { DEFAULT_STATE_TTL_MS, startFlow } from '../connect/start.js';
import { OrgSelection } from '../domain/organization.js';
import { ProviderId } from '../domain/schemas.js';
import { ThreadlinkError, toThreadlinkError } from '../errors.js';
import { withRetry } from '../util/retry.js';
import type { Background } from '../util/background.js';
import { orgSupportOf, publicOrganization } from './access.js';
import { saveConnectedOrg } from './save.js';
import { syncOrganization } from './sync.js';
import type { OrgConnectStartInput, OrgConnectStartResult } from './types.js';

const ConnectStart = z.strictObject({
  tenantId: z.string().min(1).max(256),
  userId: z.string().min(1).max(256),
  provider: ProviderId,
  selection: OrgSelection,
  returnTo: z.string().max(2048).optional(),
  directoryHint: z.string().min(1).max(256).optional(),
});

/** The admin-consent callback's URL and its connect cookie's settings (the cookie is sent to that path only). */
function orgCallback(context: Pick<CoreContext, 'urls' | 'connectCookie'>): { redirectUri: string; cookie: CookieSettings } {
  const path = `${context.urls.basePath}/connect/org/callback`;
  return { redirectUri: `${context.urls.origin}${path}`, cookie: { ...context.connectCookie, path } };
}

export function createOrgConnectStart(context: CoreContext): (input: OrgConnectStartInput) => Promise<OrgConnectStartResult> {
  const ttlMs = context.config.oauthStateTtlMs ?? DEFAULT_STATE_TTL_MS;
  const callback = orgCallback(context);
  return async function orgConnectStart(input) {
    await context.init();
    const parsed = ConnectStart.parse(input);
    if (parsed.returnTo !== undefined && !isSafeReturn(parsed.returnTo, context.urls.origin)) {
      throw new ThreadlinkError('INVALID_INPUT', 'returnTo must be a relative path or a URL on the publicUrl origin', { details: { field: 'returnTo' } });
    }
    const { organization: support } = orgSupportOf(context, parsed.provider);
    if (!support.adminConsentUrl || !support.completeAdminConsent) {
      throw new ThreadlinkError('INVALID_INPUT', `The provider "${parsed.provider}" connects an organization with org.connect.direct only`, {
        details: { provider: parsed.provider },
      });
    }
    const { state, cookie } = startFlow(
      context,
      {
        provider: parsed.provider,
        tenantId: parsed.tenantId,
        userId: parsed.userId,
        ...(parsed.returnTo ? { returnTo: parsed.returnTo } : {}),
        org: { selection: parsed.selection, ...(parsed.directoryHint ? { directoryHint: parsed.directoryHint } : {}) },
      },
      ttlMs,
      callback.cookie,
    );
    const url = await support.adminConsentUrl({
      state,
      redirectUri: callback.redirectUri,
      ...(parsed.directoryHint ? { directoryHint: parsed.directoryHint } : {}),
    });
    return { url, state, cookie };
  };
}

/** GET /connect/org/callback: the admin's browser coming back from the provider's admin-consent page. */
export function createOrgConsentCallback(context: CoreContext, background: Background): (request: Request) => Promise<Response> {
  const callback = orgCallback(context);
  return createCallbackRoute(context, {
    cookie: callback.cookie,
    failure: 'Connecting the organization failed',
    async complete(url, cookies) {
      await context.init();
      const state = await claimFlow(context, url.searchParams, { cookies }, 'org');
      const { organization: support } = orgSupportOf(context, state.provider);
      if (!support.completeAdminConsent) throw new ThreadlinkError('INVALID_INPUT', `The provider "${state.provider}" has no admin consent`);
      const result = await support.completeAdminConsent(url.searchParams, { redirectUri: callback.redirectUri, logger: context.logger, clock: context.clock });
      const organization = await saveConnectedOrg(context, { ...state, selection: state.org!.selection }, result);
      // Opening hundreds of mailboxes outlasts a browser redirect: the admin lands back at once and
      // the org's health shows the mailboxes going live.
      background.run(async () => {
        try {
          // A throttled or unavailable provider is waited out (Retry-After honoured): a retry re-opens
          // only what the failed attempt left unopened (sync.ts).
          await withRetry(() => syncOrganization(context, organization), { clock: context.clock });
        } catch (error) {
          context.logger.warn('opening the mailboxes of a newly connected organization failed', {
            orgId: organization.id,
            code: toThreadlinkError(error).code,
          });
        }
      });
      const visible = publicOrganization(organization);
      return {
        redirect: { key: 'org', value: organization.id },
        body: { organization: { id: visible.id, provider: visible.provider, directoryId: visible.directoryId, status: visible.status } },
      };
    },
  });
}
