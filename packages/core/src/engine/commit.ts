// The one write path for synced mail: a page of provider changes becomes metadata rows, is matched
// (with thread-link inheritance from the stored thread), and lands in ONE applySync together with
// its cursor and health; the events follow only what the store says it actually changed.
import type { Connection, ConnectionHealthState, MessageMeta, ProviderMessage, RecordLink } from '../domain/schemas.js';
import type { Change } from '../ports/mail-provider.js';
import type { ApplySyncResult, PreparedSync, StoredMessage, StoredPolicies, SyncBatch } from '../ports/metadata-store.js';
import { admits, pagePolicy, unmatchedOf } from '../policy/admit.js';
import { storesMatchedOnly } from '../policy/evaluate.js';
import type { EngineDeps } from './engine-options.js';
import { messageIdFor, threadIdFor } from './ids.js';

export interface CommitOptions {
  cursor?: string;
  expectedCursor?: string | null;
  requestedAt?: number | undefined;
  /** Health fields to merge in the same write (the store merges them into the stored health). */
  health?: Partial<ConnectionHealthState>;
  connectionPatch?: SyncBatch['connection'];
  /** The policies read with the connection at the start of the job (its first page); read here when absent. */
  policies?: StoredPolicies | undefined;
  /** The job's lease, released by this commit (the job's last): see MailboxLeases.releaseWithCommit. */
  releaseLease?: { key: string; owner: string } | undefined;
  /** The page's transaction, opened while the page was read (`MetadataStore.prepareSync`). */
  prepared?: PreparedSync | null | undefined;
}

/** Builds metadata rows, matches them, and applies everything in one atomic write. */
export async function commitChanges(deps: EngineDeps, connection: Connection, changes: Change[], options: CommitOptions): Promise<ApplySyncResult> {
  const { store, clock, events, telemetry } = deps;
  const now = clock.now();
  const latest = new Map<string, Change>();
  for (const change of changes) latest.set(change.type === 'upsert' ? change.message.providerMessageId : change.providerMessageId, change);
  // Ingestion policy first (policy/admit.ts): an excluded message is a delete, never a row.
  const policy = [...latest.values()].some((change) => change.type === 'upsert') ? await pagePolicy(store, connection, options.policies) : null;
  let upserts: MessageMeta[] = [];
  const deletes: string[] = [];
  for (const [providerMessageId, change] of latest) {
    if (change.type === 'delete' || !admits(policy, change.message)) deletes.push(providerMessageId);
    else upserts.push(toMeta(deps, connection, change.message, now));
  }
  const matchSpan = { provider: connection.provider, connectionId: connection.id, messages: upserts.length };
  let links = new Map<string, RecordLink[]>();
  let linksFromThreads: SyncBatch['linksFromThreads'];
  if (upserts.length > 0 && policy !== null && storesMatchedOnly(policy)) {
    // `store: 'matched'` decides which rows to write from the links, so they are needed first.
    links = await telemetry.span('threadlink.match', matchSpan, () => matchPage(deps, connection, upserts));
  } else if (upserts.length > 0) {
    // The resolver now; thread inheritance inside the write, from the threads the store reads there:
    // the page costs one transaction, not a listThreads and an applySync.
    const finish = await telemetry.span('threadlink.match', matchSpan, () => prepareMatch(deps, connection, upserts));
    const page = upserts;
    linksFromThreads = {
      threadIds: [...new Set(page.map((message) => message.threadId))],
      build: (stored) => {
        links = finish(threadLinksOf(stored, page));
        return [...links.values()].flat();
      },
    };
  }
  // `store: 'matched'`: what matched nothing leaves no row either (the resolver ran above, so this
  // is still the page's one store write).
  const unmatched = await unmatchedOf(store, policy, connection, upserts, links);
  if (unmatched.length > 0) {
    const dropped = new Set(unmatched.map((message) => message.id));
    upserts = upserts.filter((message) => !dropped.has(message.id));
    for (const message of unmatched) {
      deletes.push(message.providerMessageId);
      links.delete(message.id);
    }
  }
  const batch: SyncBatch = {
    upserts,
    deletes,
    links: linksFromThreads ? [] : [...links.values()].flat(),
    ...(linksFromThreads ? { linksFromThreads } : {}),
    ...(options.releaseLease ? { releaseLease: options.releaseLease } : {}),
    ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
    ...(options.expectedCursor === undefined ? {} : { expectedCursor: options.expectedCursor }),
  };
  const health = { ...(options.connectionPatch?.health ?? {}), ...(options.health ?? {}) };
  const hasHealth = Object.keys(health).length > 0;
  if (options.connectionPatch || hasHealth) {
    // Only the fields this job sets: the store merges them, so a push's lastPushAt written
    // meanwhile by the webhook survives.
    batch.connection = { ...(options.connectionPatch ?? {}), ...(hasHealth ? { health } : {}), updatedAt: now };
  }
  const result = await telemetry.span('threadlink.store.applySync', { provider: connection.provider, connectionId: connection.id }, () =>
    options.prepared ? store.applySync(connection.id, batch, { prepared: options.prepared }) : store.applySync(connection.id, batch),
  );
  if (hasHealth) connection.health = { ...connection.health, ...health };
  telemetry.messagesStored(connection.provider, result.inserted.length + result.updated.length);
  telemetry.messagesDeleted(connection.provider, result.deleted.length);
  if (options.requestedAt !== undefined && (result.inserted.length > 0 || result.deleted.length > 0)) {
    telemetry.notificationToStored(connection.provider, clock.now() - options.requestedAt);
  }
  const inserted = new Set(result.inserted);
  for (const message of upserts) {
    const created = inserted.has(message.id);
    if (!created && !result.updated.includes(message.id)) continue;
    events.emit('message.synced', { message, created });
    const messageLinks = links.get(message.id) ?? [];
    if (created && messageLinks.length > 0) events.emit('message.matched', { message, links: messageLinks });
  }
  if (result.deleted.length > 0) {
    const byId = new Map(deletes.map((providerMessageId) => [messageIdFor(connection.id, providerMessageId), providerMessageId]));
    for (const messageId of result.deleted) {
      events.emit('message.deleted', { connectionId: connection.id, tenantId: connection.tenantId, messageId, providerMessageId: byId.get(messageId) ?? '' });
    }
  }
  return result;
}

export function toMeta(deps: Pick<EngineDeps, 'matcher'>, connection: Connection, message: ProviderMessage, now: number): MessageMeta {
  return {
    ...message,
    id: messageIdFor(connection.id, message.providerMessageId),
    tenantId: connection.tenantId,
    connectionId: connection.id,
    userId: connection.userId,
    provider: connection.provider,
    threadId: threadIdFor(connection.id, message.providerThreadId),
    referenceTokens: deps.matcher.extractReferences(message),
    syncedAt: now,
  };
}

/** Matches a page of messages with one resolver round per rule kind. */
export async function matchPage(deps: EngineDeps, connection: Connection, messages: MessageMeta[]): Promise<Map<string, RecordLink[]>> {
  const threadIds = [...new Set(messages.map((message) => message.threadId))];
  // Every thread of the page in one store call (thread-link inheritance), not one per thread.
  const stored: StoredMessage[] = await deps.store.listThreads(connection.tenantId, threadIds, [connection.id]);
  return (await prepareMatch(deps, connection, messages))(threadLinksOf(stored, messages));
}

/** The resolver rounds of a page's matching; the returned step finishes it from the stored thread links. */
function prepareMatch(deps: EngineDeps, connection: Connection, messages: MessageMeta[]) {
  return deps.matcher.prepareMany(messages, {
    resolver: deps.resolver,
    tenantId: connection.tenantId,
    accountEmail: connection.accountEmail,
    now: deps.clock.now(),
  });
}

/** The links of the page's threads from their stored messages, the page's own messages left out. */
function threadLinksOf(stored: readonly StoredMessage[], messages: readonly MessageMeta[]): Map<string, RecordLink[]> {
  const pageIds = new Set(messages.map((message) => message.id));
  const threadLinksByThread = new Map<string, RecordLink[]>(messages.map((message) => [message.threadId, []]));
  for (const message of stored) {
    if (pageIds.has(message.id)) continue;
    threadLinksByThread.get(message.threadId)?.push(...message.links);
  }
  return threadLinksByThread;
}
