// An honest verdict per connection. The classic failure of mail-to-CRM syncs is a mailbox that
// says "active" while nothing has arrived for days (silent watch expiry, a dead subscription, a
// token that stopped refreshing); each of those shows here as stalled, degraded or needs_reauth.
import { z } from 'zod';
import type { Connection } from '../domain/schemas.js';

export const HealthVerdict = z.enum(['healthy', 'degraded', 'stalled', 'needs_reauth']);
export type HealthVerdict = z.infer<typeof HealthVerdict>;

export interface ConnectionHealth {
  connectionId: string;
  tenantId: string;
  provider: string;
  accountEmail: string;
  status: Connection['status'];
  verdict: HealthVerdict;
  reason: string;
  lastPushAt: number | null;
  lastSyncAt: number | null;
  lastFullSyncAt: number | null;
  /** A push announced changes this long ago that no sync has covered yet (0 when caught up). */
  syncLagMs: number;
  subscriptionExpiresAt: number | null;
  nextRenewalAt: number | null;
  backfill: { state: string; done: number; estimatedTotal: number | null; etaMs: number | null };
  consecutiveErrors: number;
  lastErrorCode: string | null;
}

export interface HealthThresholds {
  /** No push and no successful sync for this long → stalled. */
  stalledAfterMs: number;
  /** This many consecutive failed jobs → degraded. */
  degradedAfterErrors: number;
}

export function assessHealth(connection: Connection, now: number, thresholds: HealthThresholds): ConnectionHealth {
  const health = connection.health;
  const subscription = connection.subscription;
  const backfill = connection.backfill;
  const remaining = backfill.estimatedTotal === null ? null : Math.max(0, backfill.estimatedTotal - backfill.done);
  const etaMs = backfill.state === 'done' ? 0 : remaining !== null && backfill.rate ? Math.round((remaining / backfill.rate) * 1000) : null;
  const lastPush = health.lastPushAt;
  const lastSync = health.lastSyncAt;
  const since = (time: number | null): number => now - (time ?? connection.createdAt);
  const minutes = (ms: number): string => `${Math.round(ms / 60_000)} min`;

  let verdict: HealthVerdict = 'healthy';
  let reason = 'push is arriving and syncs succeed';
  if (connection.status === 'needs_reauth') {
    verdict = 'needs_reauth';
    reason = `the provider refused the grant (${health.lastErrorCode ?? 'AUTH_REVOKED'}); the user must reconnect`;
  } else if (connection.status === 'disconnected') {
    verdict = 'stalled';
    reason = 'the mailbox is disconnected';
  } else if (subscription && subscription.expiresAt <= now) {
    verdict = 'stalled';
    reason = `the push subscription expired ${minutes(now - subscription.expiresAt)} ago and was not renewed`;
  } else if (!subscription && connection.status !== 'connecting') {
    verdict = 'stalled';
    reason = 'no push subscription exists';
  } else if (since(lastPush) >= thresholds.stalledAfterMs && since(lastSync) >= thresholds.stalledAfterMs) {
    verdict = 'stalled';
    reason = `no push and no successful sync for ${minutes(Math.min(since(lastPush), since(lastSync)))}`;
  } else if (health.consecutiveErrors >= thresholds.degradedAfterErrors) {
    verdict = 'degraded';
    reason = `${health.consecutiveErrors} consecutive failures (last: ${health.lastErrorCode ?? 'unknown'})`;
  } else if (subscription && subscription.renewAt < now - 3600_000) {
    verdict = 'degraded';
    reason = `renewal is overdue by ${minutes(now - subscription.renewAt)}`;
  } else if (health.missedPushAt && health.missedPushAt > (lastPush ?? 0)) {
    // A quiet mailbox sends no pushes, so silence alone proves nothing; mail that only the
    // safety net found does.
    verdict = 'degraded';
    reason = `the safety-net sync found mail no push announced (${minutes(now - health.missedPushAt)} ago); push was re-established and is awaiting its first notification`;
  }
  return {
    connectionId: connection.id,
    tenantId: connection.tenantId,
    provider: connection.provider,
    accountEmail: connection.accountEmail,
    status: connection.status,
    verdict,
    reason,
    lastPushAt: lastPush,
    lastSyncAt: lastSync,
    lastFullSyncAt: health.lastFullSyncAt,
    syncLagMs: lastPush !== null && (lastSync === null || lastPush > lastSync) ? now - lastPush : 0,
    subscriptionExpiresAt: subscription?.expiresAt ?? null,
    nextRenewalAt: subscription?.renewAt ?? null,
    backfill: { state: backfill.state, done: backfill.done, estimatedTotal: backfill.estimatedTotal, etaMs },
    consecutiveErrors: health.consecutiveErrors,
    lastErrorCode: health.lastErrorCode,
  };
}
