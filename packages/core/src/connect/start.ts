// Step one of connecting a mailbox: the provider's consent URL, carrying a sealed state that holds
// everything the callback will need (see state.ts), so no server-side session is kept; and the
// cookie that binds the flow to this browser (see binding.ts).
import { z } from 'zod';
import type { ConnectCookie, ConnectStartInput, ConnectStartResult } from '../api.js';
import type { CoreContext } from '../context.js';
import { ProviderId } from '../domain/schemas.js';
import { ThreadlinkError } from '../errors.js';
import { createBindingCookie, type CookieSettings } from './binding.js';
import { isSafeReturn } from './return-to.js';
import { createState } from './state.js';

/** How long a connect link stays valid unless `oauthStateTtlMs` says otherwise. */
export const DEFAULT_STATE_TTL_MS = 15 * 60_000;

const ConnectStart = z.strictObject({
  provider: ProviderId,
  tenantId: z.string().min(1).max(256),
  userId: z.string().min(1).max(256),
  loginHint: z.string().max(320).optional(),
  returnTo: z.string().max(2048).optional(),
});

/** A sealed state for a flow and the cookie binding it to this browser (set on `settings.path`). */
export function startFlow(
  context: Pick<CoreContext, 'sealer' | 'clock'>,
  fields: Parameters<typeof createState>[1],
  ttlMs: number,
  settings: CookieSettings,
): { state: string; challenge: string; cookie: ConnectCookie } {
  let cookie: ConnectCookie | undefined;
  const { state, challenge } = createState(context.sealer, fields, context.clock.now(), ttlMs, (nonce) => {
    const made = createBindingCookie(nonce, ttlMs, settings);
    cookie = made.cookie;
    return made.hash;
  });
  return { state, challenge, cookie: cookie! };
}

export function createConnectStart(context: CoreContext): (input: ConnectStartInput) => Promise<ConnectStartResult> {
  const ttlMs = context.config.oauthStateTtlMs ?? DEFAULT_STATE_TTL_MS;
  return async function connectStart(input) {
    await context.init();
    const parsed = ConnectStart.parse(input);
    // Refused now rather than silently dropped at the callback: the host learns of its bug here.
    if (parsed.returnTo !== undefined && !isSafeReturn(parsed.returnTo, context.urls.origin)) {
      throw new ThreadlinkError('INVALID_INPUT', 'returnTo must be a relative path or a URL on the publicUrl origin', { details: { field: 'returnTo' } });
    }
    const provider = context.providerOf(parsed.provider);
    const { state, challenge, cookie } = startFlow(
      context,
      {
        provider: parsed.provider,
        tenantId: parsed.tenantId,
        userId: parsed.userId,
        ...(parsed.returnTo ? { returnTo: parsed.returnTo } : {}),
        ...(parsed.loginHint ? { loginHint: parsed.loginHint } : {}),
      },
      ttlMs,
      context.connectCookie,
    );
    const url = await provider.authorizeUrl({
      state,
      codeChallenge: challenge,
      redirectUri: context.urls.redirectUri,
      ...(parsed.loginHint ? { loginHint: parsed.loginHint } : {}),
    });
    return { url, state, cookie };
  };
}
