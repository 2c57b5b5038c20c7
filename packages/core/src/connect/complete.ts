// Step two of connecting a mailbox: the callback's code becomes tokens (sealed), the connection is
// stored (a reconnect keeps its id, cursor, back-fill and health), push is subscribed and the
// back-fill starts.
import type { ConnectCompleteInput } from '../api.js';
import type { CoreContext } from '../context.js';
import { Connection as ConnectionSchema, type Connection } from '../domain/schemas.js';
import { sealTokens } from '../engine/sessions.js';
import { ThreadlinkError } from '../errors.js';
import { publicConnection, type PublicConnection } from '../events.js';
import { stableId } from '../security/hash.js';
import { openState } from './state.js';

export function createConnectComplete(context: CoreContext): (input: ConnectCompleteInput) => Promise<PublicConnection> {
  const { store, sealer, clock, engine, events } = context;
  return async function connectComplete(input) {
    await context.init();
    const params = input instanceof URL ? input.searchParams : new URLSearchParams({ code: input.code, state: input.state });
    const stateText = params.get('state');
    if (!stateText) throw new ThreadlinkError('OAUTH_STATE_INVALID', 'The OAuth callback has no state');
    const state = openState(sealer, stateText, clock.now());
    if (params.get('error')) throw new ThreadlinkError('OAUTH_FAILED', `The provider refused: ${params.get('error')}`);
    const code = params.get('code');
    if (!code) throw new ThreadlinkError('OAUTH_FAILED', 'The OAuth callback has no code');
    if (!(await store.claimOnce(`oauth-state:${state.nonce}`, state.expiresAt + 60_000, clock.now()))) {
      throw new ThreadlinkError('OAUTH_STATE_INVALID', 'This connect link was already used');
    }
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
      subscription: existing?.subscription ?? null,
      cursor: existing?.cursor ?? null,
      backfill: existing?.backfill ?? { state: 'pending', done: 0, estimatedTotal: null, resume: null, startedAt: null, finishedAt: null, rate: null },
      health: existing?.health ?? { lastPushAt: null, lastSyncAt: null, lastFullSyncAt: null, newestChangeAt: null, consecutiveErrors: 0, lastErrorCode: null, lastErrorAt: null },
      shared: existing?.shared ?? false,
      createdAt: existing?.createdAt ?? now,
      updatedAt: now,
    });
    await store.saveConnection(connection);
    const session = await context.sessionFor(connection);
    const subscribed = await provider.subscribe(session);
    const backfillDone = connection.backfill.state === 'done';
    const live = await store.patchConnection(connection.id, {
      subscription: subscribed.subscription,
      // A reconnect keeps its cursor: replacing it would skip what happened while it was down.
      cursor: connection.cursor ?? subscribed.cursor,
      status: backfillDone ? 'live' : 'backfilling',
      health: { consecutiveErrors: 0, lastErrorCode: null },
      updatedAt: clock.now(),
    });
    if (!live) throw new ThreadlinkError('CONNECTION_NOT_FOUND', 'The connection vanished while connecting');
    events.emit('connection.live', { connection: publicConnection(live) });
    if (!backfillDone) await engine.enqueue('backfill', live.id);
    if (existing?.cursor) await engine.requestSync(live.id, 'reconnect');
    return publicConnection(live);
  };
}
