// The `resync` job: a full reconciliation after CURSOR_EXPIRED (or the periodic safety net).
import type { Connection } from '../../domain/schemas.js';
import { ThreadlinkError } from '../../errors.js';
import type { MailProvider } from '../../ports/mail-provider.js';
import { succeededAt, type JobContext, type JobRun } from '../job-context.js';
import { pushWasMissed } from '../job-outcome.js';
import { callProvider } from '../provider-call.js';

/**
 * List everything in the window, upsert it (links survive: they are keyed by message), delete what
 * the provider no longer has, and adopt the listing's cursor — all under one lease, renewed page by
 * page.
 *
 * The periodic reconciliation of a connection that still holds a cursor costs ids, not messages
 * (issue 21): the adapter lists ids only and reads just the ones not stored (`known`), and the
 * stored cursor is KEPT, not replaced by the listing's. An id listing cannot see a label or folder
 * change of a stored message; the pull from the kept cursor that follows does, so nothing changed
 * before the listing is skipped. A resync without a usable cursor (expired, unreadable, never set)
 * has no such pull behind it: it still reads every message, or changes made in the gap would never
 * reach the store. Nothing is deleted before the listing is complete, so a crash mid-resync replays.
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
  const reason = run.job.data?.reason;
  const idsOnly = reason === 'reconciliation' && startCursor !== null && startCursor !== undefined;
  const known: ReadonlySet<string> | undefined = idsOnly ? new Set(await store.listProviderMessageIds(connection.id)) : undefined;
  do {
    const session = await deps.sessionFor(connection, run.signal);
    const page = await callProvider(deps, connection, 'fullSync', () =>
      provider.fullSync(session, resume, { ...(since === undefined ? {} : { since }), pageSize: options.backfillPageSize, ...(known ? { known } : {}) }),
    );
    if (page.cursor && !idsOnly) cursor = page.cursor;
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
  // Changes made while we listed are after the adopted (or kept) cursor: pull them once the lease is free.
  run.later.push(() => context.requestSync(connection.id, 'after-resync'));
  // A reconciliation that stands in for the safety net (the periodic one, or one a safety-net pull
  // fell into on an expired cursor) absorbs the changes that pull would have reported as "nobody
  // pushed these": it must raise the same alarm, or a silently dropped watch/subscription stays
  // dropped for as long as no further mail arrives.
  if (drift > 0 && (reason === 'reconciliation' || reason === 'safety-net')) await pushWasMissed(context, connection, drift, run, 'reconciliation');
  return true;
}
