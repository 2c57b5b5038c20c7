// The last step of every connect, a user's OAuth callback or an organization's mailbox: the stored
// connection subscribes to push, goes live (or back-filling) and its back-fill starts; a reconnect
// keeps its cursor and catches up on what happened while it was down.
import type { CoreContext } from '../context.js';
import type { Connection } from '../domain/schemas.js';
import { ThreadlinkError } from '../errors.js';
import { publicConnection } from '../events.js';
import type { MailProvider } from '../ports/mail-provider.js';

/**
 * What a (re)connect keeps of the stored connection — push channel, cursor, back-fill progress,
 * health — or a new mailbox's starting values: a reconnect resumes instead of starting over.
 */
export function carriedOver(existing: Connection | undefined): Pick<Connection, 'subscription' | 'cursor' | 'backfill' | 'health'> {
  return {
    subscription: existing?.subscription ?? null,
    cursor: existing?.cursor ?? null,
    backfill: existing?.backfill ?? { state: 'pending', done: 0, estimatedTotal: null, resume: null, startedAt: null, finishedAt: null, rate: null },
    health: existing?.health ?? {
      lastPushAt: null,
      lastSyncAt: null,
      lastFullSyncAt: null,
      newestChangeAt: null,
      consecutiveErrors: 0,
      lastErrorCode: null,
      lastErrorAt: null,
    },
  };
}

export async function goLive(context: CoreContext, provider: MailProvider, connection: Connection, reconnect: boolean): Promise<Connection> {
  const { store, clock, engine, events } = context;
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
  if (reconnect) await engine.requestSync(live.id, 'reconnect');
  return live;
}
