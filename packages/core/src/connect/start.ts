// Step one of connecting a mailbox: the provider's consent URL, carrying a sealed state that holds
// everything the callback will need (see state.ts), so no server-side session is kept.
import { z } from 'zod';
import type { ConnectStartInput } from '../api.js';
import type { CoreContext } from '../context.js';
import { ProviderId } from '../domain/schemas.js';
import { createState } from './state.js';

/** How long a connect link stays valid unless `oauthStateTtlMs` says otherwise. */
const DEFAULT_STATE_TTL_MS = 15 * 60_000;

const ConnectStart = z.strictObject({
  provider: ProviderId,
  tenantId: z.string().min(1).max(256),
  userId: z.string().min(1).max(256),
  loginHint: z.string().max(320).optional(),
  returnTo: z.string().max(2048).optional(),
});

export function createConnectStart(context: CoreContext): (input: ConnectStartInput) => Promise<{ url: string; state: string }> {
  const ttlMs = context.config.oauthStateTtlMs ?? DEFAULT_STATE_TTL_MS;
  return async function connectStart(input) {
    await context.init();
    const parsed = ConnectStart.parse(input);
    const provider = context.providerOf(parsed.provider);
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
    );
    const url = await provider.authorizeUrl({ state, codeChallenge: challenge, redirectUri: context.urls.redirectUri, ...(parsed.loginHint ? { loginHint: parsed.loginHint } : {}) });
    return { url, state };
  };
}
