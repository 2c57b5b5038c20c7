// The `renew` and `recreate` jobs: keep push alive. Renew extends the watch/subscriptions (and
// recreates them when the provider lost them); recreate starts over. Neither moves the cursor.
import type { Connection, SubscriptionState } from '../../domain/schemas.js';
import { isThreadlinkError } from '../../errors.js';
import type { MailProvider } from '../../ports/mail-provider.js';
import type { JobContext, JobRun } from '../job-context.js';
import { callProvider } from '../provider-call.js';

export function renew(context: JobContext, connection: Connection, provider: MailProvider, run: JobRun): Promise<void> {
  return establishPush(context, connection, provider, false, run);
}

export function recreate(context: JobContext, connection: Connection, provider: MailProvider, run: JobRun): Promise<void> {
  return establishPush(context, connection, provider, true, run);
}

async function establishPush(context: JobContext, connection: Connection, provider: MailProvider, fresh: boolean, run: JobRun): Promise<void> {
  const { deps } = context;
  const { store, clock } = deps;
  const session = await deps.sessionFor(connection, run.signal);
  let subscription: SubscriptionState | undefined;
  if (!fresh) {
    try {
      subscription = (await callProvider(deps, connection, 'renew', () => provider.renew(session))).subscription;
    } catch (error) {
      if (!isThreadlinkError(error, 'NOT_FOUND')) throw error;
    }
  }
  let cursor = connection.cursor;
  if (!subscription) {
    const created = await callProvider(deps, connection, 'subscribe', () => provider.subscribe(session));
    subscription = created.subscription;
    cursor ??= created.cursor;
  }
  await store.patchConnection(connection.id, {
    subscription,
    cursor,
    ...(connection.status === 'connecting' ? { status: 'live' as const } : {}),
    updatedAt: clock.now(),
  });
  // Whatever happened while the watch was down is after the stored cursor: pull it.
  if (fresh) run.later.push(() => context.requestSync(connection.id, 'after-recreate'));
}
