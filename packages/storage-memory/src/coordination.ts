// Leases (one sync holder per connection) and one-time claims (notification dedupe, OAuth
// state replay). Time comes from the caller's `now`, so expiry is deterministic in tests and
// consistent with the engine's injected clock.
import { checkClaimRequest, checkLeaseRequest, isExpired, type LeaseRequest } from '@threadlink/core/store';
import type { Tables } from './tables.js';

export function acquireLease(tables: Tables, request: LeaseRequest): boolean {
  checkLeaseRequest(request);
  const held = tables.leases.get(request.key);
  // Not re-entrant: one engine runs many jobs under one owner name; a second job must wait too.
  if (held && !isExpired(held.expiresAt, request.now)) return false;
  tables.leases.set(request.key, { key: request.key, owner: request.owner, expiresAt: request.now + request.ttlMs });
  return true;
}

export function renewLease(tables: Tables, request: LeaseRequest): boolean {
  checkLeaseRequest(request);
  const held = tables.leases.get(request.key);
  // An expired lease is not renewable even if nobody took it yet: the holder was presumed dead.
  if (!held || held.owner !== request.owner || isExpired(held.expiresAt, request.now)) return false;
  held.expiresAt = request.now + request.ttlMs;
  return true;
}

export function releaseLease(tables: Tables, leaseKey: string, owner: string): void {
  if (tables.leases.get(leaseKey)?.owner === owner) tables.leases.delete(leaseKey);
}

/** Expired claims are swept once the table doubles, so dedupe keys do not grow without bound. */
export function claimOnce(tables: Tables, claimKey: string, expiresAt: number, now: number, sweep: { threshold: number }): boolean {
  checkClaimRequest(claimKey, expiresAt, now);
  const claimed = tables.claims.get(claimKey);
  if (claimed && !isExpired(claimed.expiresAt, now)) return false;
  tables.claims.set(claimKey, { key: claimKey, expiresAt });
  if (tables.claims.size >= sweep.threshold) {
    for (const [otherKey, claim] of tables.claims) if (isExpired(claim.expiresAt, now)) tables.claims.delete(otherKey);
    sweep.threshold = Math.max(1024, tables.claims.size * 2);
  }
  return true;
}
