// Step two of connecting a mailbox: the callback's code becomes tokens (sealed), the connection is
// stored (a reconnect keeps its id, cursor, back-fill and health), push is subscribed and the
// back-fill starts.
//
// Before anything is spent or exchanged, the flow must prove it is the one connect.start began:
// the callback route checks the browser's connect cookie (binding.ts); a host completing the flow
// itself passes its signed-in tenant and user, which must be the ones the state was made for.
// Only then is the nonce claimed, so a refused attempt does not burn the real user's link, while
// any answer from the provider (a code or an error) spends it.
import { z } from 'zod';
import type { ConnectCompleteInput, ConnectSession } from '../api.js';
import type { CoreContext } from '../context.js';
import { Connection as ConnectionSchema, type Connection } from '../domain/schemas.js';
import { sealTokens, transientSession } from '../engine/sessions.js';
import { ThreadlinkError, toThreadlinkError } from '../errors.js';
import { publicConnection, type PublicConnection } from '../events.js';
import { stableId } from '../security/hash.js';
import { cookieMatches, parseCookieHeader } from './binding.js';
import { carriedOver, goLive } from './go-live.js';
import { openState, type OAuthState } from './state.js';

/** What ties a completion to the flow's initiator; the route and the public call each pass their own. */
export interface FlowBinding {
  /** The host's signed-in tenant and user (public `complete`). */
  session?: { tenantId: string; userId: string };
  /** The callback request's cookies; when given, the state's connect cookie must be among them. */
  cookies?: Map<string, string>;
}

export type CompleteConnection = (input: ConnectCompleteInput, binding: FlowBinding) => Promise<PublicConnection>;

const Session = z.strictObject({ tenantId: z.string().min(1), userId: z.string().min(1), cookieHeader: z.string().optional() });

/** The public `connect.complete(input, session)`: the session is required, the cookie optional. */
export function completeWithSession(complete: CompleteConnection): (input: ConnectCompleteInput, session: ConnectSession) => Promise<PublicConnection> {
  return async (input, session) => {
    const parsed = Session.safeParse(session);
    if (!parsed.success) {
      throw new ThreadlinkError('SCOPE_REQUIRED', 'connect.complete needs the signed-in user: { tenantId, userId }');
    }
    const { cookieHeader, ...user } = parsed.data;
    return complete(input, { session: user, ...(cookieHeader !== undefined ? { cookies: parseCookieHeader(cookieHeader) } : {}) });
  };
}

function checkBinding(state: OAuthState, binding: FlowBinding): void {
  if (binding.session && (binding.session.tenantId !== state.tenantId || binding.session.userId !== state.userId)) {
    throw new ThreadlinkError('OAUTH_STATE_INVALID', 'This connect link was started by another user');
  }
  if (binding.cookies && !cookieMatches(binding.cookies, state)) {
    throw new ThreadlinkError('OAUTH_STATE_INVALID', 'This connect link was not started in this browser; start the connection again');
  }
  if (!binding.session && !binding.cookies) throw new ThreadlinkError('OAUTH_STATE_INVALID', 'A connect flow must be bound to a session or a cookie');
}

/**
 * Opens the callback's state, checks it belongs to this kind of flow (a user's connect or an
 * organization's admin consent) and to its initiator, then claims its nonce: what every callback
 * does before acting on the provider's answer.
 */
export async function claimFlow(
  context: Pick<CoreContext, 'sealer' | 'clock' | 'store'>,
  params: URLSearchParams,
  binding: FlowBinding,
  kind: 'user' | 'org',
): Promise<OAuthState> {
  const stateText = params.get('state');
  if (!stateText) throw new ThreadlinkError('OAUTH_STATE_INVALID', 'The OAuth callback has no state');
  const state = openState(context.sealer, stateText, context.clock.now());
  if ((kind === 'org') !== (state.org !== undefined)) throw new ThreadlinkError('OAUTH_STATE_INVALID', 'This state belongs to another connect flow');
  checkBinding(state, binding);
  // Claimed before the outcome is acted on: a denied consent spends the link too, so the same
  // state cannot be replayed later with a code.
  if (!(await context.store.claimOnce(`oauth-state:${state.nonce}`, state.expiresAt + 60_000, context.clock.now()))) {
    throw new ThreadlinkError('OAUTH_STATE_INVALID', 'This connect link was already used');
  }
  return state;
}

export function createConnectComplete(context: CoreContext): CompleteConnection {
  const { store, sealer, clock, events, logger } = context;
  const loginHintMode = context.config.connect?.loginHint ?? 'enforce';
  return async function connectComplete(input, binding) {
    await context.init();
    const params = input instanceof URL ? input.searchParams : new URLSearchParams({ code: input.code, state: input.state });
    const state = await claimFlow(context, params, binding, 'user');
    if (params.get('error')) throw new ThreadlinkError('OAUTH_FAILED', `The provider refused: ${params.get('error')}`);
    const code = params.get('code');
    if (!code) throw new ThreadlinkError('OAUTH_FAILED', 'The OAuth callback has no code');
    const provider = context.providerOf(state.provider);
    const account = await provider.exchangeCode({ code, codeVerifier: state.verifier, redirectUri: context.urls.redirectUri });
    const now = clock.now();
    const existing = (await store.listConnections({ tenantId: state.tenantId, provider: state.provider, accountEmail: account.accountEmail.toLowerCase() }))[0];
    const connection: Connection = ConnectionSchema.parse({
      id: existing?.id ?? stableId('con', state.tenantId, state.provider, account.accountEmail.toLowerCase()),
      tenantId: state.tenantId,
      userId: state.userId,
      provider: state.provider,
      accountEmail: account.accountEmail,
      displayName: account.displayName,
      status: 'connecting',
      sealedTokens: sealTokens(sealer, account.tokens),
      scopes: account.scopes,
      ...carriedOver(existing),
      shared: existing?.shared ?? false,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    });
    // A grant that is not kept is handed back to the provider (best effort).
    const handBack = async (why: string): Promise<void> => {
      try {
        await provider.revoke(transientSession({ ...connection, subscription: null }, account.tokens, { logger, clock, webhookUrl: context.urls.webhook }));
      } catch (error) {
        logger.warn(`revoking ${why} grant failed`, { provider: state.provider, tenantId: state.tenantId, code: toThreadlinkError(error).code });
      }
    };
    if (existing?.orgId !== undefined) {
      // One connection per mailbox and tenant: the organization already syncs this mailbox with
      // its app grant, and a user's connect must not take it over (nor the org's back: org/sync.ts).
      await handBack('a redundant');
      throw new ThreadlinkError(
        'MAILBOX_MANAGED_BY_ORGANIZATION',
        'This mailbox is already connected through the organization; its mail is synced without a personal connection',
        {
          details: { provider: state.provider },
        },
      );
    }
    const mismatch = state.loginHint !== undefined && state.loginHint.toLowerCase() !== account.accountEmail.toLowerCase();
    if (mismatch && loginHintMode === 'enforce') {
      // The user chose another account on the consent page (a shared browser, a second Google
      // login): that mailbox was not the one asked for, so its grant is handed back, not kept.
      await handBack('a mismatched');
      throw new ThreadlinkError(
        'ACCOUNT_MISMATCH',
        'The account granted on the consent page is not the one the connection was started for; it was not connected',
        {
          details: { provider: state.provider },
        },
      );
    }
    await store.saveConnection(connection);
    if (mismatch) {
      logger.warn('connected another account than the login hint', { connectionId: connection.id, provider: state.provider, tenantId: state.tenantId });
      events.emit('connection.account_mismatch', {
        connectionId: connection.id,
        tenantId: state.tenantId,
        userId: state.userId,
        provider: state.provider,
        loginHint: state.loginHint!,
        accountEmail: account.accountEmail,
      });
    }
    const live = await goLive(context, provider, connection, Boolean(existing?.cursor));
    return publicConnection(live);
  };
}
