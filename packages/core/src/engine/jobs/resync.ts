// The `resync` job: a full reconciliation after CURSOR_EXPIRED (or the periodic safety net).
import type { Connection } from '../../domain/schemas.js';
import { ThreadlinkError } from '../../errors.js';
import type { MailProvider } from '../../ports/mail-provider.js';
import { succeededAt, type JobContext, type JobRun } from '../job-context.js';
import { pushWasMissed } from '../job-outcome.js';
import { callProvider } from '../provider-call.js';

/**
 * List everything in the window, upsert what is new or changed (links survive: they are keyed by
 * message), delete what the provider no longer has — all under one lease, renewed page by page.
 *
 * Every resync of a mailbox that stores messages costs ids, not messages (issue 21): the adapter
 * lists ids only and reads just the ones not stored (`known`). The periodic reconciliation of a
 * connection that still holds a cursor KEEPS it: an id listing cannot see a label or folder change
 * of a stored message, and the pull from the kept cursor that follows does. A resync without a
 * usable cursor (expired, unreadable, never set) has no such pull behind it, so it also hands the
 * adapter the label ids stored per message (`knownLabels`): the adapter compares them with the
 * provider's per-label (Gmail) or per-folder (Outlook) listings and re-reads only the messages
 * whose membership differs, then the listing's cursor is adopted. A mailbox that stores nothing, or
 * whose adapter does not compare labels (`MailProvider.resyncComparesLabels`), is listed and read
 * whole. Nothing is deleted before the listing is complete, so a crash replays.
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
  const keepsCursor = reason === 'reconciliation' && startCursor !== null && startCursor !== undefined;
  let known: ReadonlySet<string> | undefined;
  let knownLabels: ReadonlyMap<string, readonly string[]> | undefined;
  if (keepsCursor) {
    known = new Set(await store.listProviderMessageIds(connection.id));
  } else if (provider.resyncComparesLabels) {
    const stored = await store.listProviderMessageLabels(connection.id);
    if (stored.length > 0) {
      knownLabels = new Map(stored.map((message) => [message.providerMessageId, message.labels]));
      known = new Set(knownLabels.keys());
    }
  }
  do {
    const session = await deps.sessionFor(connection, run.signal);
    const page = await callProvider(deps, connection, 'fullSync', () =>
      provider.fullSync(session, resume, {
        ...(since === undefined ? {} : { since }),
        pageSize: options.backfillPageSize,
        ...(known ? { known } : {}),
        ...(knownLabels ? { knownLabels } : {}),
      }),
    );
    if (page.cursor && !keepsCursor) cursor = page.cursor;
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
      health: { lastFullSyncAt: now, reconciledIds: seen.size, ...succeededAt(startedAt) },
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
