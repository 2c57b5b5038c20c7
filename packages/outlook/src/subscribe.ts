// Graph change notification subscriptions, one per synced folder
// (https://learn.microsoft.com/graph/change-notifications-for-outlook-resources). One per folder
// rather than one on /me/messages: a notification names the message, never its folder, and
// message delta is per folder, so only a per-folder subscription tells a push which one delta to
// read (1 request per pushed message). Graph allows 1,000 Outlook subscriptions per mailbox for all
// apps; at most MAX_FOLDER_SUBSCRIPTIONS (folders.ts) are made, and folders beyond them are read
// along with every push (sync.ts foldersToPull). A folder that joins the sync later (created after
// connect) gets its subscription from the pull that finds it (PullResult.pushCoverageChanged → a
// renew at once), not at the next renewal.
// Creating one makes Graph POST a validation token to both URLs first; the webhook
// handler (notifications.ts) must already answer it.
import { randomBytes } from 'node:crypto';
import {
  isThreadlinkError,
  mapWithConcurrency,
  sha256Hex,
  ThreadlinkError,
  type ProviderSession,
  type SubscribeResult,
  type SubscriptionItem,
  type SubscriptionState,
} from '@threadlink/core/provider';
import { graphFor, type GraphSession, type OutlookContext } from './client.js';
import { folderOfResource, folderResource, foldersWithPush, loadDirectory } from './folders.js';
import { decodeCursor, deltaStartPath, encodeCursor, folderIdOf, treeFingerprint, walkToDeltaLink, withDirectory, type DeltaCursor } from './sync.js';

/** Longest lifetime Graph grants a subscription on Outlook messages without resource data (7 days). */
const MAX_LIFETIME_MINUTES = 10_080;
/** Asked for a little less than the maximum: Graph rejects a request past it by its own clock (400). */
const LIFETIME_MARGIN_MINUTES = 10;
/** Renew at 75 % of the lifetime: a missed renewal still leaves more than a day to retry. */
const RENEW_FRACTION = 0.75;
/**
 * The initial cursor tracks mail received from a little before now, so a message stamped by a
 * server clock slightly behind ours is not missed; older mail is the back-fill's job.
 */
const INITIAL_WINDOW_MS = 15 * 60 * 1000;

export interface Profile {
  accountEmail: string;
  displayName: string | null;
}

export async function fetchProfile(graph: GraphSession): Promise<Profile> {
  const me = await graph.get<{ mail?: string | null; userPrincipalName?: string | null; displayName?: string | null }>(
    `${graph.mailboxPath}?$select=mail,userPrincipalName,displayName`,
  );
  // `mail` is empty for some accounts (no Exchange licence yet, or a consumer alias); the UPN is the sign-in name.
  const accountEmail = me.mail || me.userPrincipalName;
  if (!accountEmail)
    throw new ThreadlinkError('PROVIDER_ERROR', `Graph ${graph.mailboxPath} returned neither mail nor userPrincipalName`, { details: { provider: 'outlook' } });
  return { accountEmail: accountEmail.toLowerCase(), displayName: me.displayName ?? null };
}

interface GraphSubscription {
  id: string;
  resource?: string;
  expirationDateTime: string;
}

/** What creating a subscription needs; built per call from the provider's context. */
interface SubscribeCall {
  graph: GraphSession;
  session: ProviderSession;
  excludeFolders: readonly string[];
  pageSize: number;
}

function subscribeCall(context: OutlookContext, session: ProviderSession): SubscribeCall {
  return { graph: graphFor(context, session), session, excludeFolders: context.options.excludeFolders, pageSize: context.options.pageSize };
}

function lifetime(now: number): { expiresAt: number; renewAt: number } {
  const lifetimeMs = (MAX_LIFETIME_MINUTES - LIFETIME_MARGIN_MINUTES) * 60 * 1000;
  return { expiresAt: now + lifetimeMs, renewAt: now + Math.round(lifetimeMs * RENEW_FRACTION) };
}

function toState(items: SubscriptionItem[], now: number): SubscriptionState {
  const expiresAt = Math.min(...items.map((item) => item.expiresAt));
  // Renew at 75 % of the remaining life of the soonest-expiring item.
  return { items, expiresAt, renewAt: now + Math.max(0, Math.round((expiresAt - now) * RENEW_FRACTION)) };
}

async function createSubscription(context: SubscribeCall, folder: string): Promise<SubscriptionItem> {
  const now = context.session.clock.now();
  // 32 random bytes: unguessable, and 43 base64url characters stay under Graph's 128-character limit.
  const clientState = randomBytes(32).toString('base64url');
  const created = await context.graph.post<GraphSubscription>('/subscriptions', {
    changeType: 'created,updated,deleted',
    notificationUrl: context.session.webhookUrl,
    // Only settable at creation; without it Graph cannot tell us about removal or missed notifications.
    lifecycleNotificationUrl: `${context.session.webhookUrl}/lifecycle`,
    resource: folderResource(context.graph.mailboxPath, folder),
    expirationDateTime: new Date(lifetime(now).expiresAt).toISOString(),
    clientState,
  });
  const expiresAt = Date.parse(created.expirationDateTime);
  return {
    id: created.id,
    resource: folderResource(context.graph.mailboxPath, folder),
    expiresAt: Number.isNaN(expiresAt) ? lifetime(now).expiresAt : expiresAt,
    // Only the hash is kept: a leaked store row cannot be used to forge notifications.
    clientStateHash: sha256Hex(clientState),
  };
}

async function deleteSubscription(graph: GraphSession, id: string): Promise<void> {
  try {
    await graph.delete(`/subscriptions/${encodeURIComponent(id)}`);
  } catch (error) {
    if (!isThreadlinkError(error, 'NOT_FOUND')) throw error;
  }
}

/** The stored cursor, if it is one we can continue from; delta tokens outlive subscriptions. */
function reusableCursor(session: ProviderSession): DeltaCursor | null {
  const stored = session.connection.cursor;
  if (!stored) return null;
  try {
    return decodeCursor(stored);
  } catch {
    return null;
  }
}

/** Creates subscriptions side by side (each waits for Graph's validation round trip), all or none. */
async function createAll(context: SubscribeCall, folders: readonly string[]): Promise<SubscriptionItem[]> {
  const created = await mapWithConcurrency(folders, 4, (folder) =>
    createSubscription(context, folder).then(
      (item) => ({ ok: true as const, item }),
      (error: unknown) => ({ ok: false as const, error }),
    ),
  );
  const items = created.flatMap((result) => (result.ok ? [result.item] : []));
  const failure = created.find((result) => !result.ok);
  if (failure && !failure.ok) {
    await Promise.allSettled(items.map((item) => deleteSubscription(context.graph, item.id)));
    throw failure.error;
  }
  return items;
}

export async function subscribe(provider: OutlookContext, session: ProviderSession): Promise<SubscribeResult> {
  const context = subscribeCall(provider, session);
  const { graph } = context;
  const profile = await fetchProfile(graph);
  if (profile.accountEmail !== session.connection.accountEmail) {
    session.logger.warn('outlook mailbox address differs from the connection', { connectionId: session.connection.id });
  }
  // Re-subscribing (a 'recreate' hint) replaces whatever is left of the old subscriptions.
  for (const item of session.connection.subscription?.items ?? []) {
    await deleteSubscription(graph, item.id).catch((error: unknown) =>
      session.logger.warn('outlook could not delete an old subscription', {
        connectionId: session.connection.id,
        code: isThreadlinkError(error) ? error.code : 'unknown',
      }),
    );
  }

  // Keep a stored cursor (a recreated subscription must not skip what changed meanwhile);
  // otherwise start tracking every synced folder from now without listing the mailbox.
  const now = session.clock.now();
  const directory = await loadDirectory(graph, context.excludeFolders);
  let cursor = reusableCursor(session);
  if (cursor === null) {
    const since = now - INITIAL_WINDOW_MS;
    const links = await mapWithConcurrency(directory.included, 4, async (folder) => [
      folder,
      await walkToDeltaLink(graph, deltaStartPath(graph.mailboxPath, folder, { receivedSince: since }), context.pageSize),
    ]);
    // Every link was just read to its end: none is stale yet.
    const pulledAt = Object.fromEntries(directory.included.map((folder) => [folder, session.clock.now()]));
    cursor = {
      v: 2,
      links: Object.fromEntries(links),
      folderIds: directory.folderIds,
      excluded: directory.excluded,
      listedAt: now,
      pulledAt,
      tree: treeFingerprint(directory),
    };
  } else {
    cursor = withDirectory(graph.mailboxPath, cursor, directory, now);
  }
  const items = await createAll(context, foldersWithPush(Object.keys(cursor.links)));
  const subscription = toState(items, session.clock.now());
  session.logger.info('outlook subscriptions active', {
    connectionId: session.connection.id,
    subscriptionIds: items.map((item) => item.id),
    expiresAt: subscription.expiresAt,
  });
  return { subscription, cursor: encodeCursor(cursor) };
}

/**
 * PATCHes every subscription's expiry (this also answers reauthorizationRequired); a vanished one
 * is recreated. The set follows the cursor's folders: a folder synced since (created after
 * connect) gets its subscription, one no longer synced (deleted, excluded) loses it.
 */
export async function renew(provider: OutlookContext, session: ProviderSession): Promise<{ subscription: SubscriptionState }> {
  const context = subscribeCall(provider, session);
  const { graph } = context;
  const current = session.connection.subscription?.items ?? [];
  if (current.length === 0) throw new ThreadlinkError('NOT_FOUND', 'No Graph subscriptions to renew', { details: { provider: 'outlook' } });
  const cursor = reusableCursor(session);
  const wanted = cursor ? new Set(foldersWithPush(Object.keys(cursor.links))) : null;
  const items: SubscriptionItem[] = [];
  const covered = new Set<string>();
  for (const item of current) {
    const reference = folderOfResource(item.resource);
    const folder = reference === null ? null : cursor ? folderIdOf(reference, cursor.folderIds) : reference;
    if (wanted && folder !== null && !wanted.has(folder)) {
      await deleteSubscription(graph, item.id);
      continue;
    }
    const now = session.clock.now();
    try {
      const renewed = await graph.patch<GraphSubscription>(`/subscriptions/${encodeURIComponent(item.id)}`, {
        expirationDateTime: new Date(lifetime(now).expiresAt).toISOString(),
      });
      const expiresAt = Date.parse(renewed.expirationDateTime);
      items.push({ ...item, expiresAt: Number.isNaN(expiresAt) ? lifetime(now).expiresAt : expiresAt });
    } catch (error) {
      if (!isThreadlinkError(error, 'NOT_FOUND') || folder === null) throw error;
      // Graph drops subscriptions silently at times (expired, or removed by the service).
      session.logger.warn('outlook subscription vanished; recreating it', { connectionId: session.connection.id });
      items.push(await createSubscription(context, reference ?? folder));
    }
    if (folder !== null) covered.add(folder);
  }
  const added = wanted ? [...wanted].filter((folder) => !covered.has(folder)) : [];
  if (added.length > 0) items.push(...(await createAll(context, added)));
  if (items.length === 0) throw new ThreadlinkError('NOT_FOUND', 'No Graph subscriptions left to renew', { details: { provider: 'outlook' } });
  const subscription = toState(items, session.clock.now());
  session.logger.info('outlook subscriptions renewed', {
    connectionId: session.connection.id,
    subscriptionIds: items.map((item) => item.id),
    expiresAt: subscription.expiresAt,
  });
  return { subscription };
}

/**
 * Deletes the connection's subscriptions (offboarding, revoke, a host's unsubscribe). A grant
 * already dead cannot delete anything; the subscriptions then lapse within 7 days and their
 * notifications are ignored once the connection is gone, so offboarding does not stall on it.
 * `step` names the operation in the log.
 */
export async function deleteSubscriptions(context: OutlookContext, session: ProviderSession, step: 'revoke' | 'unsubscribe'): Promise<void> {
  const graph = graphFor(context, session);
  try {
    for (const item of session.connection.subscription?.items ?? []) await deleteSubscription(graph, item.id);
  } catch (error) {
    if (!isThreadlinkError(error, 'AUTH_REVOKED')) throw error;
    session.logger.warn(`outlook ${step}: grant already invalid; subscriptions will expire on their own`, { connectionId: session.connection.id });
  }
}

export function unsubscribe(context: OutlookContext, session: ProviderSession): Promise<void> {
  return deleteSubscriptions(context, session, 'unsubscribe');
}
