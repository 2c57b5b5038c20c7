// Graph change notification subscriptions, one per folder
// (https://learn.microsoft.com/graph/change-notifications-for-outlook-resources).
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
import type { OutlookFolder } from './options.js';
import { decodeCursor, deltaStartPath, encodeCursor, loadFolderIds, walkToDeltaLink } from './sync.js';

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
    '/me?$select=mail,userPrincipalName,displayName',
  );
  // `mail` is empty for some accounts (no Exchange licence yet, or a consumer alias); the UPN is the sign-in name.
  const accountEmail = me.mail || me.userPrincipalName;
  if (!accountEmail) throw new ThreadlinkError('PROVIDER_ERROR', 'Graph /me returned neither mail nor userPrincipalName', { details: { provider: 'outlook' } });
  return { accountEmail: accountEmail.toLowerCase(), displayName: me.displayName ?? null };
}

function folderResource(folder: OutlookFolder): string {
  return `me/mailFolders('${folder}')/messages`;
}

export function folderOfResource(resource: string): OutlookFolder | null {
  const match = /mailFolders\('(inbox|sentitems)'\)/i.exec(resource);
  return match ? (match[1]!.toLowerCase() as OutlookFolder) : null;
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
  folders: readonly OutlookFolder[];
  pageSize: number;
}

function subscribeCall(context: OutlookContext, session: ProviderSession): SubscribeCall {
  return { graph: graphFor(context, session), session, folders: context.options.folders, pageSize: context.options.pageSize };
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

async function createSubscription(context: SubscribeCall, folder: OutlookFolder): Promise<SubscriptionItem> {
  const now = context.session.clock.now();
  // 32 random bytes: unguessable, and 43 base64url characters stay under Graph's 128-character limit.
  const clientState = randomBytes(32).toString('base64url');
  const created = await context.graph.post<GraphSubscription>('/subscriptions', {
    changeType: 'created,updated,deleted',
    notificationUrl: context.session.webhookUrl,
    // Only settable at creation; without it Graph cannot tell us about removal or missed notifications.
    lifecycleNotificationUrl: `${context.session.webhookUrl}/lifecycle`,
    resource: folderResource(folder),
    expirationDateTime: new Date(lifetime(now).expiresAt).toISOString(),
    clientState,
  });
  const expiresAt = Date.parse(created.expirationDateTime);
  return {
    id: created.id,
    resource: folderResource(folder),
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
function reusableCursor(session: ProviderSession, folders: readonly OutlookFolder[]): string | null {
  const stored = session.connection.cursor;
  if (!stored) return null;
  try {
    decodeCursor(stored, folders);
    return stored;
  } catch {
    return null;
  }
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

  // Created side by side: each waits for Graph's validation round trip to our endpoint.
  const created = await Promise.allSettled(context.folders.map((folder) => createSubscription(context, folder)));
  const items = created.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = created.find((result) => result.status === 'rejected');
  if (failure) {
    await Promise.allSettled(items.map((item) => deleteSubscription(graph, item.id)));
    throw failure.reason;
  }

  // Keep a stored cursor (a recreated subscription must not skip what changed meanwhile);
  // otherwise start tracking from now without listing the mailbox.
  let cursor = reusableCursor(session, context.folders);
  if (cursor === null) {
    const folderIds = await loadFolderIds(graph);
    const since = session.clock.now() - INITIAL_WINDOW_MS;
    const links = await mapWithConcurrency(context.folders, context.folders.length, async (folder) => [
      folder,
      await walkToDeltaLink(graph, deltaStartPath(folder, { receivedSince: since }), context.pageSize),
    ]);
    // Every link was just read to its end: none is stale yet.
    const pulledAt = Object.fromEntries(context.folders.map((folder) => [folder, session.clock.now()]));
    cursor = encodeCursor({ v: 1, links: Object.fromEntries(links), folderIds, pulledAt });
  }
  const subscription = toState(items, session.clock.now());
  session.logger.info('outlook subscriptions active', {
    connectionId: session.connection.id,
    subscriptionIds: items.map((item) => item.id),
    expiresAt: subscription.expiresAt,
  });
  return { subscription, cursor };
}

/** PATCHes every subscription's expiry (this also answers reauthorizationRequired); a vanished one is recreated. */
export async function renew(provider: OutlookContext, session: ProviderSession): Promise<{ subscription: SubscriptionState }> {
  const context = subscribeCall(provider, session);
  const { graph } = context;
  const current = session.connection.subscription?.items ?? [];
  if (current.length === 0) throw new ThreadlinkError('NOT_FOUND', 'No Graph subscriptions to renew', { details: { provider: 'outlook' } });
  const items: SubscriptionItem[] = [];
  for (const item of current) {
    const now = session.clock.now();
    try {
      const renewed = await graph.patch<GraphSubscription>(`/subscriptions/${encodeURIComponent(item.id)}`, {
        expirationDateTime: new Date(lifetime(now).expiresAt).toISOString(),
      });
      const expiresAt = Date.parse(renewed.expirationDateTime);
      items.push({ ...item, expiresAt: Number.isNaN(expiresAt) ? lifetime(now).expiresAt : expiresAt });
    } catch (error) {
      const folder = folderOfResource(item.resource);
      if (!isThreadlinkError(error, 'NOT_FOUND') || folder === null) throw error;
      // Graph drops subscriptions silently at times (expired, or removed by the service).
      session.logger.warn('outlook subscription vanished; recreating it', { connectionId: session.connection.id, folder });
      items.push(await createSubscription(context, folder));
    }
  }
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
