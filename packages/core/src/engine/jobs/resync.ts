// The `resync` job: a full reconciliation after CURSOR_EXPIRED (or the periodic safety net).
import type { Connection } from '../../domain/schemas.js';
import { ThreadlinkError } from '../../errors.js';
import type { MailProvider } from '../../ports/mail-provider.js';
import { succeededAt, type JobContext, type JobRun } from '../job-context.js';
import { pushWasMissed } from '../job-outcome.js';
import { callProvider } from '../provider-call.js';

/**
 * List every id in the window, read and upsert only the messages not stored yet (links survive: they
 * are keyed by message, and stored rows are left alone), delete what the provider no longer has,
 * and adopt the listing's cursor — all under one lease, renewed page by page. The stored ids are
 * read once at the start: a message a concurrent pull stores meanwhile is at worst read again (an
 * idempotent upsert), and nothing is deleted before the listing is complete, so a crash mid-resync
 * replays from the start with nothing lost.
 */
export async function resync(context: JobContext, connection: Connection, provider: MailProvider, run: JobRun): Promise<boolean> {
  const { deps } = context;
  const { store, clock, options } = deps;
  const { key: leaseKey, owner } = run.hold;
  const startedAt = clock.now();
  const since = options.backfillWindowMs > 0 ? clock.now() - options.backfillWindowMs : undefined;
  const seen = new Set<string>();
  let resume: string | null = null;
  let cursor: string | undefined;
  /** Messages this reconciliation had to add or remove: changes the live path never delivered. */
  let drift = 0;
  const startCursor = connection.cursor;
  const known: ReadonlySet<string> = new Set(await store.listProviderMessageIds(connection.id));
  do {
    const session = await deps.sessionFor(connection, context.signal);
    const page = await callProvider(deps, connection, 'fullSync', () =>
      provider.fullSync(session, resume, { ...(since === undefined ? {} : { since }), pageSize: options.backfillPageSize, known }),
    );
    if (page.cursor) cursor = page.cursor;
    for (const message of page.messages) seen.add(message.providerMessageId);
    for (const providerMessageId of page.unchanged ?? []) seen.add(providerMessageId);
    drift += (
      await context.commit(
        connection,
        page.messages.map((message) => ({ type: 'upsert' as const, message })),
        {},
      )
    ).inserted.length;
    resume = page.next;
    const renewed = await store.renewLease({ key: leaseKey, owner, ttlMs: options.leaseTtlMs, now: clock.now() });
    if (!renewed) throw new ThreadlinkError('LEASE_LOST', 'Lost the connection lease during resync');
  } while (resume);
  const stored = await store.listProviderMessageIds(connection.id);
  const missing: string[] = [];
  for (const providerMessageId of stored) {
    if (seen.has(providerMessageId)) continue;
    if (since !== undefined) {
      const message = await store.getMessageByProviderId(connection.id, providerMessageId);
      if (message && message.receivedAt < since) continue;
    }
    missing.push(providerMessageId);
  }
  const now = clock.now();
  const removed = await context.commit(
    connection,
    missing.map((providerMessageId) => ({ type: 'delete' as const, providerMessageId })),
    {
      ...(cursor === undefined ? {} : { cursor }),
      expectedCursor: startCursor,
      health: { lastFullSyncAt: now, ...succeededAt(startedAt) },
    },
  );
  drift += removed.deleted.length;
  if (cursor !== undefined) connection.cursor = cursor;
  // Changes made while we listed are after the adopted cursor: pull them once the lease is free.
  run.later.push(() => context.requestSync(connection.id, 'after-resync'));
  // A reconciliation that stands in for the safety net (the periodic one, or one a safety-net pull
  // fell into on an expired cursor) absorbs the changes that pull would have reported as "nobody
  // pushed these": it must raise the same alarm, or a silently dropped watch/subscription stays
  // dropped for as long as no further mail arrives.
  const reason = run.job.data?.reason;
  if (drift > 0 && (reason === 'reconciliation' || reason === 'safety-net')) await pushWasMissed(context, connection, drift, run, 'reconciliation');
  return true;
}
