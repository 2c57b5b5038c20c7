// Step one of connecting a mailbox: the provider's consent URL, carrying a sealed state that holds
// everything the callback will need (see state.ts), so no server-side session is kept; and the
// cookie that binds the flow to this browser (see binding.ts).
import { z } from 'zod';
import type { ConnectStartInput, ConnectStartResult } from '../api.js';
import type { CoreContext } from '../context.js';
import { ProviderId } from '../domain/schemas.js';
import { ThreadlinkError } from '../errors.js';
import { createBindingCookie } from './binding.js';
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
    let cookie: ConnectStartResult['cookie'] | undefined;
    const { state, challenge } = createState(
      context.sealer,
      {
        provider: parsed.provider,
        tenantId: parsed.tenantId,
        userId: parsed.userId,
        ...(parsed.returnTo ? { returnTo: parsed.returnTo } : {}),
        ...(parsed.loginHint ? { loginHint: parsed.loginHint } : {}),
      },
      context.clock.now(),
      ttlMs,
      (nonce) => {
        const made = createBindingCookie(nonce, ttlMs, context.connectCookie);
        cookie = made.cookie;
        return made.hash;
      },
    );
    const url = await provider.authorizeUrl({
      state,
      codeChallenge: challenge,
      redirectUri: context.urls.redirectUri,
      ...(parsed.loginHint ? { loginHint: parsed.loginHint } : {}),
    });
    return { url, state, cookie: cookie! };
  };
}
