// Webhook intake: a provider verifies and decodes its notification, then each hint becomes engine
// work (a sync, a resync, a renewal, a recreation). Redeliveries are claimed once; a push is noted
// in health so silence and lag can be measured.
import type { CoreContext } from '../context.js';
import type { Connection, ProviderId } from '../domain/schemas.js';
import { ThreadlinkError, toThreadlinkError } from '../errors.js';
import { errorResponse, jsonResponse } from '../http/handler.js';
import type { WebhookContext, WebhookOutcome } from '../ports/mail-provider.js';
import type { PushAccount, PushClaim, PushLease, SyncLeaseResult } from '../ports/metadata-store.js';
import { groupCommit } from '../util/group-commit.js';
import { PUSH_TAKING_STATUSES } from '../util/store-rules.js';
import { CHECKED_LOOKUP_TTL_MS, LOOKUP_TTL_MS, rememberedAccountLookup } from './account-lookups.js';

/** How long a notification id stays claimed: providers redeliver within hours, never days. */
const REDELIVERY_WINDOW_MS = 24 * 3600_000;

/**
 * A push worth recording in health: the first in a second, or the first since the last sync began
 * (so lastPushAt > lastSyncAt says exactly "a push is waiting for a sync", which back-fill yields to
 * and syncLagMs measures). A burst while a sync is pending costs one write, not one each.
 */
const recordsPush = (health: Connection['health'], receivedAt: number): boolean =>
  receivedAt - (health.lastPushAt ?? 0) >= 1_000 || (health.lastSyncAt ?? 0) >= (health.lastPushAt ?? 0);

/** Seconds a provider is asked to wait before redelivering a push this instance could not take. */
const RETRY_AFTER_SECONDS = 5;

/**
 * A push this instance cannot take now (stopping, store or queue down): 503 + Retry-After. Pub/Sub
 * and Graph both redeliver a non-2xx answer, so the push reaches another instance or this one later
 * instead of being acknowledged and lost.
 */
function unavailable(error: ThreadlinkError): Response {
  return jsonResponse(503, { error: { code: error.code, message: error.message } }, { 'retry-after': String(RETRY_AFTER_SECONDS) });
}

/** A claim for webhook intake's group commit, with the remembered account it checks, if any. */
interface ClaimItem {
  claim: PushClaim;
  account?: PushAccount;
}

interface Claimed {
  won: boolean;
  /** The account's connections now, when the claim carried an account. */
  connectionIds?: string[];
  /** The sync lease the claim asked for (`PushClaim.lease`), as taken; undefined when not taken. */
  lease?: SyncLeaseResult | undefined;
}

export function createReceiveWebhook(context: CoreContext): (providerId: string, route: string, request: Request) => Promise<Response> {
  const { store, clock, logger, engine, events, telemetry } = context;
  // Pushes arriving together share their store round trips (util/group-commit.ts): the mailbox
  // look-ups of a batch are one query, their claims one write.
  const lookUpAccounts = groupCommit(async (asked: Array<{ provider: ProviderId; accountEmail: string }>) => {
    const found = new Map<string, Connection[]>();
    for (const provider of new Set(asked.map((entry) => entry.provider))) {
      const accountEmails = [...new Set(asked.filter((entry) => entry.provider === provider).map((entry) => entry.accountEmail.toLowerCase()))];
      const connections = await store.listConnections({ provider, accountEmails, status: [...PUSH_TAKING_STATUSES] });
      for (const connection of connections) {
        const key = `${provider}:${connection.accountEmail}`;
        found.set(key, [...(found.get(key) ?? []), connection]);
      }
    }
    // Copies: each caller may change what it gets (the health of the connections it notes a push on).
    return asked.map(({ provider, accountEmail }) =>
      (found.get(`${provider}:${accountEmail.toLowerCase()}`) ?? []).map((connection) => structuredClone(connection)),
    );
  });
  // A claim may carry the account of a remembered look-up: the store then answers the account's
  // connections now, read in the claim's own transaction (claimPushesForAccounts).
  const checksAccounts = typeof store.claimPushesForAccounts === 'function';
  // A claim may also carry the sync lease of the job it will queue (PushClaim.lease), taken in the
  // same statement: a push into a quiet mailbox then costs two transactions, not three (issue 21).
  const claimPush = groupCommit(async (items: ClaimItem[]): Promise<Claimed[]> => {
    const claims = items.map((item) => item.claim);
    const accounts = items.flatMap((item) => (item.account ? [item.account] : []));
    const leases = claims.some((claim) => claim.lease !== undefined);
    if (!checksAccounts || (accounts.length === 0 && !leases)) return (await store.claimPushes(claims)).map((won) => ({ won }));
    const answer = await (store.claimPushesForAccounts as NonNullable<typeof store.claimPushesForAccounts>)(claims, accounts);
    let next = 0;
    return items.map((item, index) => ({
      won: answer.won[index] === true,
      ...(item.account ? { connectionIds: answer.connectionIds[next++] ?? [] } : {}),
      ...(item.claim.lease && answer.leases?.[index]?.acquired ? { lease: answer.leases[index] } : {}),
    }));
  });
  const accountLookup = rememberedAccountLookup(
    (provider, accountEmail) => lookUpAccounts({ provider, accountEmail }),
    clock,
    checksAccounts ? CHECKED_LOOKUP_TTL_MS : LOOKUP_TTL_MS,
  );
  events.on('connection.live', ({ connection }) => accountLookup.forget(connection.provider, connection.accountEmail));
  const base: WebhookContext = {
    connectionsByAccount: async (provider, accountEmail) => (await accountLookup(provider, accountEmail)).connections,
    connectionsBySubscriptions: async (provider, subscriptionIds) =>
      subscriptionIds.length === 0 ? [] : store.listConnections({ provider, subscriptionIds: [...new Set(subscriptionIds)] }),
    clock,
    logger,
    maxBodyBytes: context.limits.maxBodyBytes,
  };

  return async function receiveWebhook(providerId, route, request) {
    if (engine.stopping) return unavailable(new ThreadlinkError('SHUTTING_DOWN', 'This instance is stopping'));
    const provider = context.providerOf(providerId);
    const receivedAt = clock.now();
    // The connections the provider looked up to verify this notification, kept for its hints: the
    // health check below then needs no second read of each.
    const loaded = new Map<string, Connection>();
    // The accounts this push was matched to from memory, and the connection ids memory gave: the
    // first claim for each carries it, and its answer says whether memory is still right.
    const unchecked = new Map<string, { account: PushAccount; connectionIds: string[] }>();
    const remember = (connections: Connection[]): Connection[] => {
      for (const connection of connections) loaded.set(connection.id, connection);
      return connections;
    };
    const webhookContext: WebhookContext = {
      ...base,
      connectionsByAccount: async (kind, accountEmail) => {
        // A remembered answer (a burst for one mailbox) is not kept for the health check below:
        // its health may be stale, so the push is recorded unconditionally (in the claim's write).
        const { connections, remembered } = await accountLookup(kind, accountEmail);
        if (remembered && checksAccounts) {
          unchecked.set(`${kind}:${accountEmail.toLowerCase()}`, {
            account: { provider: kind, accountEmail },
            connectionIds: connections.map((connection) => connection.id),
          });
        }
        return remembered ? connections : remember(connections);
      },
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
      // The store could not be read to verify it (an outage): not the sender's fault, ask for a redelivery.
      if (error.code === 'STORE_ERROR' && error.retryable) return unavailable(error);
      return errorResponse(error.code === 'INTERNAL' ? new ThreadlinkError('WEBHOOK_MALFORMED', 'Malformed notification') : error);
    }
    let accepted = 0;
    // Grows when a remembered account turns out to have a connection memory did not know.
    const hints = [...outcome.hints];
    for (const hint of hints) {
      // Exact redeliveries (same Pub/Sub messageId / Graph item) cost nothing: claimed once for a day.
      // Claimed per connection: one address connected in two tenants (or by two users) gets ONE
      // Gmail push (the watch is per mailbox), and each of its connections must still sync.
      const claim = hint.notificationId ? `notification:${providerId}:${hint.connectionId}:${hint.notificationId}` : undefined;
      // The push is noted in health (lastPushAt) by the claim's own write (`claimPushes`: one store
      // transaction per push, or less when pushes arrive together), only when the claim is won: a
      // redelivery writes nothing.
      const lastPushAt = pushToRecord(hint.connectionId, receivedAt, loaded);
      const check = claim ? checkFor(hint.connectionId, unchecked) : undefined;
      // The lease of the sync job this push queues, when that job will start here at once.
      const lease = claim && checksAccounts && hint.kind === 'changes' ? engine.reservePushLease(hint.connectionId) : null;
      try {
        if (claim) {
          const claimed = await claimSettling(
            {
              claim: { key: claim, expiresAt: receivedAt + REDELIVERY_WINDOW_MS, now: receivedAt, connectionId: hint.connectionId, lastPushAt },
              ...(check ? { account: check.account } : {}),
            },
            lease,
          );
          if (check && claimed.connectionIds) hints.push(...reconcile(check, claimed.connectionIds, hint));
          if (!claimed.won) continue;
        } else if (lastPushAt !== null) {
          // No notification id to claim (nothing to deduplicate): the push alone is noted. The store
          // merges the one field: a job's lastSyncAt or error count written meanwhile survives.
          await store.patchConnection(hint.connectionId, { health: { lastPushAt } });
        }
      } catch (raw) {
        return intakeFailed(providerId, toThreadlinkError(raw));
      }
      if (lastPushAt !== null) noted(hint.connectionId, lastPushAt, loaded);
      try {
        await handOn(hint);
      } catch (raw) {
        if (lease) engine.cancelPushLease(hint.connectionId, lease.owner);
        // Claimed but not handed on: free the claim, or the redelivery this answer asks for would be
        // taken for a duplicate and the push lost. (Hints before this one stay claimed and queued.)
        if (claim) await store.releaseClaim(claim).catch((error) => logger.warn('could not release a notification claim', { provider: providerId, error }));
        return intakeFailed(providerId, toThreadlinkError(raw));
      }
      accepted += 1;
    }
    // A remembered answer no claim could check (no notification id to claim): not trusted again.
    for (const { account } of unchecked.values()) accountLookup.forget(account.provider, account.accountEmail);
    telemetry.notificationReceived(providerId, accepted);
    events.emit('notification.received', {
      provider: providerId,
      connectionIds: [...new Set(hints.map((hint) => hint.connectionId))],
      hints: accepted,
    });
    return outcome.response ?? new Response(null, { status: 202 });
  };

  /**
   * Claims a push, with the sync lease `reservePushLease` gave (if any), and settles that
   * reservation whatever happens (a failed claim took nothing): a job of the mailbox may wait for it.
   */
  async function claimSettling(item: ClaimItem, lease: PushLease | null): Promise<Claimed> {
    let claimed: Claimed | undefined;
    try {
      claimed = await claimPush(lease ? { ...item, claim: { ...item.claim, lease } } : item);
      return claimed;
    } finally {
      if (lease) engine.settlePushLease(item.claim.connectionId, lease.owner, claimed?.won ? claimed.lease : undefined);
    }
  }

  /**
   * The lastPushAt to write with this hint's claim, or null when the push need not be recorded.
   * Decided from the connection the provider already read to verify the notification; one it did
   * not read is not read here (webhook work that does not need the store skips it): its push is
   * recorded, in the claim's write that costs nothing extra.
   */
  function pushToRecord(connectionId: string, receivedAt: number, loaded: Map<string, Connection>): number | null {
    const connection = loaded.get(connectionId);
    return !connection || recordsPush(connection.health, receivedAt) ? receivedAt : null;
  }

  /** Keeps the request's copy of the connection current, so the next hint of a batch sees the push. */
  function noted(connectionId: string, lastPushAt: number, loaded: Map<string, Connection>): void {
    const connection = loaded.get(connectionId);
    if (connection) connection.health.lastPushAt = lastPushAt;
  }

  /** The remembered account `connectionId` came from, taken off `unchecked`: its first claim checks it. */
  function checkFor(
    connectionId: string,
    unchecked: Map<string, { account: PushAccount; connectionIds: string[] }>,
  ): { account: PushAccount; connectionIds: string[] } | undefined {
    for (const [key, entry] of unchecked) {
      if (!entry.connectionIds.includes(connectionId)) continue;
      unchecked.delete(key);
      return entry;
    }
    return undefined;
  }

  /**
   * Memory against the store's answer for a remembered account: when they differ, the account is
   * forgotten (the next push looks it up) and each connection memory did not know gets this push
   * too, as if it had been looked up (a connection made by another instance since). One memory
   * knew of and the store no longer has is left to its job, which finds it gone and does nothing.
   */
  function reconcile(check: { account: PushAccount; connectionIds: string[] }, current: string[], hint: WebhookOutcome['hints'][number]) {
    const known = new Set(check.connectionIds);
    if (current.length === known.size && current.every((id) => known.has(id))) return [];
    accountLookup.forget(check.account.provider, check.account.accountEmail);
    logger.debug('remembered connections of an account changed', { provider: check.account.provider, connections: current.length });
    return current.filter((id) => !known.has(id)).map((connectionId) => ({ ...hint, connectionId }));
  }

  /** Queues the work a hint stands for. */
  async function handOn(hint: WebhookOutcome['hints'][number]): Promise<void> {
    if (hint.kind === 'changes') await engine.requestSync(hint.connectionId, 'push', hint.receivedAt, hint.scope);
    else if (hint.kind === 'resync') await engine.enqueue('resync', hint.connectionId);
    else if (hint.kind === 'renew') await engine.enqueue('renew', hint.connectionId);
    else await engine.enqueue('recreate', hint.connectionId);
  }

  /** A retryable failure (store, queue, stopping) asks for a redelivery; anything else is a 500 as before. */
  function intakeFailed(providerId: string, error: ThreadlinkError): Response {
    telemetry.notificationRejected(providerId, error.code);
    events.emit('notification.rejected', { provider: providerId, code: error.code, status: error.retryable ? 503 : error.status });
    logger.warn('webhook not taken, provider will redeliver', { provider: providerId, code: error.code });
    if (error.retryable) return unavailable(error);
    throw error;
  }
}
