// The Graph webhook: the validation handshake, change notifications and lifecycle events
// (https://learn.microsoft.com/graph/change-notifications-delivery-webhooks,
//  https://learn.microsoft.com/graph/change-notifications-lifecycle-events).
// Nothing here calls Graph: verification is local, and the engine pulls later, so the
// answer goes out well inside Graph's 3-second budget.
import {
  constantTimeEqual,
  sha256Hex,
  stableId,
  ThreadlinkError,
  type ChangeHint,
  type ChangeHintKind,
  type Connection,
  type WebhookContext,
  type WebhookOutcome,
} from '@threadlink/core/provider';
import { z } from 'zod';
import { folderOfResource, scopeToken } from './folders.js';

const ChangeNotification = z.looseObject({
  // Graph's changeNotification `id`: "Unique ID for the notification. Optional."
  // (https://learn.microsoft.com/graph/api/resources/changenotification). Lifecycle notifications
  // as documented carry none; when one does, it is what identifies that one notification.
  id: z.string().nullish(),
  subscriptionId: z.string().min(1),
  clientState: z.string().nullish(),
  changeType: z.string().optional(),
  resource: z.string().optional(),
  resourceData: z.looseObject({ '@odata.etag': z.string().optional() }).nullish(),
  lifecycleEvent: z.string().optional(),
  subscriptionExpirationDateTime: z.string().optional(),
});
type ChangeNotification = z.infer<typeof ChangeNotification>;

const NotificationBatch = z.looseObject({ value: z.array(ChangeNotification).min(1).max(1000) });

const LIFECYCLE_HINTS: Readonly<Record<string, ChangeHintKind>> = {
  // The access token behind the subscription is about to lapse: PATCH it (renew) to reauthorize.
  reauthorizationRequired: 'renew',
  // Graph deleted the subscription: create a new one (the stored delta cursor still covers the gap).
  subscriptionRemoved: 'recreate',
  // Graph dropped notifications: only a delta pull can tell what changed.
  missed: 'resync',
};

/**
 * The hint of a lifecycle event, looked up as an own property only: `__proto__`, `constructor`,
 * `toString`… are not events (a plain `LIFECYCLE_HINTS[name]` finds Object.prototype's members,
 * and a truthy one would recreate every subscription of the connection).
 */
function lifecycleHint(event: string | undefined): ChangeHintKind | undefined {
  return event !== undefined && Object.hasOwn(LIFECYCLE_HINTS, event) ? LIFECYCLE_HINTS[event] : undefined;
}

/**
 * The longest validationToken echoed. Graph's are short opaque strings (a sentence plus a request
 * id, under 200 characters in every handshake seen); 1,024 leaves room for growth while keeping
 * the endpoint from reflecting arbitrary attacker-chosen pages back to a browser.
 */
const MAX_VALIDATION_TOKEN_LENGTH = 1_024;

/**
 * Distinct subscription ids one notification POST may name. Graph batches the notifications of
 * one app per notificationUrl; each connection holds one subscription per watched folder (a
 * handful), so a genuine batch names a few dozen subscriptions at most even for a busy tenant.
 * 100 keeps that headroom while bounding the work an unauthenticated request can ask for (one
 * store query, of at most 100 ids) before any clientState is checked.
 */
const MAX_SUBSCRIPTIONS_PER_REQUEST = 100;

/**
 * Graph echoes validationToken as text/plain, decoded, and nothing else (no HTML, no JSON).
 * `nosniff` stops a browser from sniffing markup in the echo into HTML
 * (https://learn.microsoft.com/graph/change-notifications-delivery-webhooks#notificationurl-validation).
 */
function validationResponse(request: Request): Response | null {
  const token = new URL(request.url).searchParams.get('validationToken');
  if (token === null) return null;
  if (token.length > MAX_VALIDATION_TOKEN_LENGTH) {
    throw new ThreadlinkError('WEBHOOK_MALFORMED', `Graph validationToken longer than ${MAX_VALIDATION_TOKEN_LENGTH} characters`, {
      details: { provider: 'outlook' },
    });
  }
  return new Response(token, { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8', 'x-content-type-options': 'nosniff' } });
}

/** `maxBodyBytes` is the host's one webhook limit (WebhookContext): Graph batches stay far below the 1 MiB default. */
async function readBatch(request: Request, maxBodyBytes: number): Promise<ChangeNotification[]> {
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > maxBodyBytes) throw new ThreadlinkError('PAYLOAD_TOO_LARGE', 'Graph notification body too large');
  const text = await request.text();
  if (Buffer.byteLength(text) > maxBodyBytes) throw new ThreadlinkError('PAYLOAD_TOO_LARGE', 'Graph notification body too large');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ThreadlinkError('WEBHOOK_MALFORMED', 'Graph notification body is not JSON', { cause });
  }
  const parsed = NotificationBatch.safeParse(json);
  if (!parsed.success) throw new ThreadlinkError('WEBHOOK_MALFORMED', 'Graph notification body is not a notification collection');
  return parsed.data.value;
}

interface Verified {
  connection: Connection;
  notification: ChangeNotification;
}

/**
 * Finds the connection owning each notification's subscription and checks its clientState
 * against the stored SHA-256 in constant time. Unknown subscriptions (a deleted connection,
 * a subscription left to expire) are skipped; a single wrong clientState rejects the batch.
 */
async function verify(notifications: ChangeNotification[], context: WebhookContext): Promise<Verified[]> {
  const subscriptionIds = [...new Set(notifications.map((notification) => notification.subscriptionId))];
  if (subscriptionIds.length > MAX_SUBSCRIPTIONS_PER_REQUEST) {
    throw new ThreadlinkError('WEBHOOK_MALFORMED', `Graph notification batch names more than ${MAX_SUBSCRIPTIONS_PER_REQUEST} subscriptions`, {
      details: { provider: 'outlook' },
    });
  }
  // One look-up for the whole batch: a thousand unknown ids cost one query, not a thousand.
  const owners = await context.connectionsBySubscriptions('outlook', subscriptionIds);
  const bySubscription = new Map<string, Connection[]>();
  for (const connection of owners) {
    for (const item of connection.subscription?.items ?? []) {
      const list = bySubscription.get(item.id) ?? [];
      list.push(connection);
      bySubscription.set(item.id, list);
    }
  }
  const verified: Verified[] = [];
  for (const notification of notifications) {
    const connections = bySubscription.get(notification.subscriptionId) ?? [];
    for (const connection of connections) {
      const item = connection.subscription?.items.find((entry) => entry.id === notification.subscriptionId);
      if (!item) continue;
      const presented = notification.clientState ?? '';
      if (!item.clientStateHash || !constantTimeEqual(sha256Hex(presented), item.clientStateHash)) {
        throw new ThreadlinkError('WEBHOOK_UNAUTHORIZED', 'Graph notification clientState does not match the subscription', {
          details: { provider: 'outlook' },
        });
      }
      verified.push({ connection, notification });
    }
  }
  return verified;
}

/** A hint names at most this many scope entries (core's ChangeHint.scope); more: pull everything. */
const MAX_SCOPE = 16;

/**
 * The folders of the subscriptions that fired (each subscription watches one folder) as scope
 * tokens (folders.ts scopeToken), or undefined — pull everything — when they are all the
 * connection's folders, too many, or one is unknown.
 */
function notifiedFolders(connection: Connection, subscriptionIds: ReadonlySet<string>): string[] | undefined {
  const items = connection.subscription?.items ?? [];
  const all = new Set<string>();
  const notified = new Set<string>();
  for (const item of items) {
    const folder = folderOfResource(item.resource);
    if (folder === null) {
      if (subscriptionIds.has(item.id)) return undefined;
      continue;
    }
    all.add(folder);
    if (subscriptionIds.has(item.id)) notified.add(folder);
  }
  if (notified.size === 0 || notified.size === all.size || notified.size > MAX_SCOPE) return undefined;
  return [...notified].map(scopeToken).sort();
}

export async function handleWebhook(request: Request, route: string, context: WebhookContext): Promise<WebhookOutcome> {
  const normalized = route.replace(/^\/+|\/+$/g, '');
  if (normalized !== '' && normalized !== 'lifecycle') {
    throw new ThreadlinkError('NOT_FOUND', 'Unknown Outlook webhook route');
  }
  // Both URLs are validated at creation (and the notification URL again on some renewals).
  const validation = validationResponse(request);
  if (validation) return { response: validation, hints: [] };
  if (request.method !== 'POST') throw new ThreadlinkError('WEBHOOK_MALFORMED', 'Graph notifications are POSTs');

  const notifications = await readBatch(request, context.maxBodyBytes);
  const verified = await verify(notifications, context);
  const receivedAt = context.clock.now();
  const hints: ChangeHint[] = [];

  if (normalized === 'lifecycle') {
    const seen = new Set<string>();
    for (const { connection, notification } of verified) {
      const kind = lifecycleHint(notification.lifecycleEvent);
      if (!kind) {
        context.logger.info('outlook lifecycle event ignored', { connectionId: connection.id, event: notification.lifecycleEvent?.slice(0, 64) ?? null });
        continue;
      }
      // Redeliveries are recognised by the notification's own `id` only. Subscription id + event +
      // expiry is NOT an identity: the expiry changes only at renewal, so a second genuine `missed`
      // the same day would be taken for a replay and its resync lost. Without an id nothing is
      // deduplicated across requests; a repeated resync or renewal is coalesced by the queue.
      const notificationId = notification.id ? stableId('graph-lifecycle', notification.subscriptionId, notification.id) : undefined;
      const key = `${connection.id}|${kind}`;
      if (seen.has(key)) continue;
      seen.add(key);
      hints.push({ connectionId: connection.id, kind, receivedAt, ...(notificationId ? { notificationId } : {}) });
    }
  } else {
    // One 'changes' hint per connection, scoped to the folders whose subscriptions fired.
    const byConnection = new Map<string, { connection: Connection; parts: string[]; subscriptionIds: Set<string> }>();
    for (const { connection, notification } of verified) {
      const entry = byConnection.get(connection.id) ?? { connection, parts: [], subscriptionIds: new Set<string>() };
      entry.parts.push(
        [notification.subscriptionId, notification.resource ?? '', notification.changeType ?? '', notification.resourceData?.['@odata.etag'] ?? ''].join('|'),
      );
      entry.subscriptionIds.add(notification.subscriptionId);
      byConnection.set(connection.id, entry);
    }
    for (const [connectionId, { connection, parts, subscriptionIds }] of byConnection) {
      const scope = notifiedFolders(connection, subscriptionIds);
      // The same notification redelivered hashes the same; a new change carries a new etag.
      hints.push({ connectionId, kind: 'changes', notificationId: stableId('graph', ...parts.sort()), receivedAt, ...(scope ? { scope } : {}) });
    }
  }
  return { response: new Response(null, { status: 202 }), hints };
}
