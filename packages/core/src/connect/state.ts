// The OAuth connect flow. `state` carries everything the callback needs (tenant, user,
// provider, the PKCE verifier, an expiry and a nonce) sealed with AES-GCM, so it is both
// confidential and tamper-proof without server-side session storage; the nonce is claimed
// once in the store, so a replayed callback is refused. `binding` is the SHA-256 of the connect
// cookie's secret (binding.ts): the state alone does not complete a flow.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { OrgSelection } from '../domain/organization.js';
import { ProviderId } from '../domain/schemas.js';
import { ThreadlinkError } from '../errors.js';
import type { Sealer } from '../security/sealing.js';
import { randomId } from '../util/clock.js';

const STATE_PURPOSE = 'oauth-state';

export const OAuthState = z.strictObject({
  provider: ProviderId,
  tenantId: z.string().min(1),
  userId: z.string().min(1),
  verifier: z.string().min(43).max(128),
  nonce: z.string().min(16),
  expiresAt: z.number().int(),
  returnTo: z.string().max(2048).optional(),
  loginHint: z.string().max(320).optional(),
  binding: z.string().min(43),
  /**
   * Present on an organization's admin-consent flow (org/connect.ts) only: what to apply once the
   * admin approved. The user callback refuses a state carrying it, the org callback one without it.
   */
  org: z.strictObject({ selection: OrgSelection, directoryHint: z.string().min(1).max(256).optional() }).optional(),
});
export type OAuthState = z.infer<typeof OAuthState>;

export function pkceChallenge(verifier: string): string {
  return createHash('sha256').update(verifier).digest('base64url');
}

export function createState(
  sealer: Sealer,
  input: { provider: ProviderId; tenantId: string; userId: string; returnTo?: string; loginHint?: string; org?: OAuthState['org'] },
  now: number,
  ttlMs: number,
  bind: (nonce: string) => string,
): { state: string; verifier: string; challenge: string; parsed: OAuthState } {
  const verifier = randomId(48);
  const nonce = randomId(18);
  const parsed: OAuthState = OAuthState.parse({ ...input, verifier, nonce, expiresAt: now + ttlMs, binding: bind(nonce) });
  return { state: sealer.seal(JSON.stringify(parsed), STATE_PURPOSE), verifier, challenge: pkceChallenge(verifier), parsed };
}

export function openState(sealer: Sealer, state: string, now: number): OAuthState {
  let parsed: OAuthState;
  try {
    parsed = OAuthState.parse(JSON.parse(sealer.open(state, STATE_PURPOSE)));
  } catch (error) {
    throw new ThreadlinkError('OAUTH_STATE_INVALID', 'The OAuth state is invalid or was tampered with', { cause: error });
  }
  if (parsed.expiresAt < now) throw new ThreadlinkError('OAUTH_STATE_INVALID', 'The OAuth state has expired; start the connection again');
  return parsed;
}
