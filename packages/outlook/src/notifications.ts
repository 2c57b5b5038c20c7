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
import { folderOfResource } from './subscribe.js';

const ChangeNotification = z.looseObject({
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

const LIFECYCLE_HINTS: Record<string, ChangeHintKind> = {
  // The access token behind the subscription is about to lapse: PATCH it (renew) to reauthorize.
  reauthorizationRequired: 'renew',
  // Graph deleted the subscription: create a new one (the stored delta cursor still covers the gap).
  subscriptionRemoved: 'recreate',
  // Graph dropped notifications: only a delta pull can tell what changed.
  missed: 'resync',
};

/** Graph echoes validationToken as text/plain, decoded, and nothing else (no HTML, no JSON). */
function validationResponse(request: Request): Response | null {
  const token = new URL(request.url).searchParams.get('validationToken');
  if (token === null) return null;
  return new Response(token, { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' } });
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
  const verified: Verified[] = [];
  const lookups = new Map<string, Promise<Connection[]>>();
  for (const notification of notifications) {
    let lookup = lookups.get(notification.subscriptionId);
    if (!lookup) {
      lookup = context.connectionsBySubscription('outlook', notification.subscriptionId);
      lookups.set(notification.subscriptionId, lookup);
    }
    const connections = await lookup;
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

/**
 * The folders of the subscriptions that fired (each subscription watches one folder), or
 * undefined — pull everything — when they are all the connection's folders or one is unknown.
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
  if (notified.size === 0 || notified.size === all.size) return undefined;
  return [...notified].sort();
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
      const kind = notification.lifecycleEvent ? LIFECYCLE_HINTS[notification.lifecycleEvent] : undefined;
      if (!kind) {
        context.logger.info('outlook lifecycle event ignored', { connectionId: connection.id, event: notification.lifecycleEvent ?? null });
        continue;
      }
      const notificationId = stableId(
        'graph',
        notification.subscriptionId,
        notification.lifecycleEvent ?? '',
        notification.subscriptionExpirationDateTime ?? '',
      );
      const key = `${connection.id}|${kind}`;
      if (seen.has(key)) continue;
      seen.add(key);
      hints.push({ connectionId: connection.id, kind, notificationId, receivedAt });
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
