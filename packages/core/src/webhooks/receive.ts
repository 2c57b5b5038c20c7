// Webhook intake: a provider verifies and decodes its notification, then each hint becomes engine
// work (a sync, a resync, a renewal, a recreation). Redeliveries are claimed once; a push is noted
// in health so silence and lag can be measured — the claim and the note in one store write.
import type { CoreContext } from '../context.js';
import type { Connection } from '../domain/schemas.js';
import { ThreadlinkError, toThreadlinkError } from '../errors.js';
import { errorResponse } from '../http/handler.js';
import type { WebhookContext, WebhookOutcome } from '../ports/mail-provider.js';

/** How long a notification id stays claimed: providers redeliver within hours, never days. */
const REDELIVERY_WINDOW_MS = 24 * 3600_000;

/**
 * A push worth recording in health: the first in a second, or the first since the last sync began
 * (so lastPushAt > lastSyncAt says exactly "a push is waiting for a sync", which back-fill yields to
 * and syncLagMs measures). A burst while a sync is pending costs one write, not one each.
 */
const recordsPush = (health: Connection['health'], receivedAt: number): boolean =>
  receivedAt - (health.lastPushAt ?? 0) >= 1_000 || (health.lastSyncAt ?? 0) >= (health.lastPushAt ?? 0);

export function createReceiveWebhook(context: CoreContext): (providerId: string, route: string, request: Request) => Promise<Response> {
  const { store, clock, logger, engine, events, telemetry } = context;
  const base: WebhookContext = {
    connectionsByAccount: (provider, accountEmail) =>
      store.listConnections({ provider, accountEmail: accountEmail.toLowerCase(), status: ['live', 'backfilling', 'connecting'] }),
    connectionsBySubscriptions: async (provider, subscriptionIds) =>
      subscriptionIds.length === 0 ? [] : store.listConnections({ provider, subscriptionIds: [...new Set(subscriptionIds)] }),
    clock,
    logger,
    maxBodyBytes: context.limits.maxBodyBytes,
  };

  return async function receiveWebhook(providerId, route, request) {
    const provider = context.providerOf(providerId);
    const receivedAt = clock.now();
    // The connections the provider looked up to verify this notification, kept for its hints: the
    // health check below then needs no second read of each.
    const loaded = new Map<string, Connection>();
    const remember = (connections: Connection[]): Connection[] => {
      for (const connection of connections) loaded.set(connection.id, connection);
      return connections;
    };
    const webhookContext: WebhookContext = {
      ...base,
      connectionsByAccount: async (kind, accountEmail) => remember(await base.connectionsByAccount(kind, accountEmail)),
      connectionsBySubscriptions: async (kind, subscriptionIds) => remember(await base.connectionsBySubscriptions(kind, subscriptionIds)),
    };
    let outcome: WebhookOutcome;
    try {
      outcome = await telemetry.span('threadlink.webhook', { provider: providerId, route }, () => provider.handleWebhook(request, route, webhookContext));
    } catch (raw) {
      const error = toThreadlinkError(raw);
      telemetry.notificationRejected(providerId, error.code);
      events.emit('notification.rejected', { provider: providerId, code: error.code, status: error.status });
      logger.warn('webhook rejected', { provider: providerId, code: error.code, status: error.status });
      return errorResponse(error.code === 'INTERNAL' ? new ThreadlinkError('WEBHOOK_MALFORMED', 'Malformed notification') : error);
    }
    let accepted = 0;
    for (const hint of outcome.hints) {
      // Exact redeliveries (same Pub/Sub messageId / Graph item) cost nothing: claimed once for a day.
      // Claimed per connection: one address connected in two tenants (or by two users) gets ONE
      // Gmail push (the watch is per mailbox), and each of its connections must still sync.
      const connection = loaded.get(hint.connectionId) ?? (await store.getConnection(hint.connectionId));
      const lastPushAt = connection && recordsPush(connection.health, receivedAt) ? receivedAt : null;
      if (hint.notificationId) {
        // The claim and the push's lastPushAt in one store write (one transaction per push, not two);
        // the store merges the one field, so a job's lastSyncAt or error count written meanwhile survives.
        const key = `notification:${providerId}:${hint.connectionId}:${hint.notificationId}`;
        const claimed = await store.claimPush({
          key,
          expiresAt: receivedAt + REDELIVERY_WINDOW_MS,
          now: receivedAt,
          connectionId: hint.connectionId,
          lastPushAt,
        });
        if (!claimed) continue;
      } else if (lastPushAt !== null) {
        await store.patchConnection(hint.connectionId, { health: { lastPushAt } });
      }
      accepted += 1;
      if (connection && lastPushAt !== null) {
        connection.health.lastPushAt = lastPushAt;
        loaded.set(connection.id, connection);
      }
      if (hint.kind === 'changes') await engine.requestSync(hint.connectionId, 'push', hint.receivedAt, hint.scope);
      else if (hint.kind === 'resync') await engine.enqueue('resync', hint.connectionId);
      else if (hint.kind === 'renew') await engine.enqueue('renew', hint.connectionId);
      else await engine.enqueue('recreate', hint.connectionId);
    }
    telemetry.notificationReceived(providerId, accepted);
    events.emit('notification.received', {
      provider: providerId,
      connectionIds: [...new Set(outcome.hints.map((hint) => hint.connectionId))],
      hints: accepted,
    });
    return outcome.response ?? new Response(null, { status: 202 });
  };
}
