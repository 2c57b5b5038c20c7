// Leases (one sync holder per connection) and one-time claims (notification dedupe, OAuth
// state replay). Time comes from the caller's `now`, so expiry is deterministic in tests and
// consistent with the engine's injected clock.
import { isExpired, ThreadlinkError, type LeaseRequest } from '@threadlink/core';
import type { Tables } from './tables.js';

function checkLease(request: LeaseRequest): void {
  const valid =
    typeof request === 'object' &&
    request !== null &&
    typeof request.key === 'string' &&
    request.key !== '' &&
    typeof request.owner === 'string' &&
    request.owner !== '' &&
    Number.isFinite(request.ttlMs) &&
    request.ttlMs > 0 &&
    Number.isFinite(request.now);
  if (!valid) throw new ThreadlinkError('INVALID_INPUT', 'A lease needs a key, an owner, a positive ttlMs and now');
}

export function acquireLease(tables: Tables, request: LeaseRequest): boolean {
  checkLease(request);
  const held = tables.leases.get(request.key);
  // Not re-entrant: one engine runs many jobs under one owner name; a second job must wait too.
  if (held && !isExpired(held.expiresAt, request.now)) return false;
  tables.leases.set(request.key, { key: request.key, owner: request.owner, expiresAt: request.now + request.ttlMs });
  return true;
}

export function renewLease(tables: Tables, request: LeaseRequest): boolean {
  checkLease(request);
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
  if (typeof claimKey !== 'string' || claimKey === '' || !Number.isFinite(expiresAt) || !Number.isFinite(now)) {
    throw new ThreadlinkError('INVALID_INPUT', 'A claim needs a key, expiresAt and now');
  }
  const claimed = tables.claims.get(claimKey);
  if (claimed && !isExpired(claimed.expiresAt, now)) return false;
  tables.claims.set(claimKey, { key: claimKey, expiresAt });
  if (tables.claims.size >= sweep.threshold) {
    for (const [otherKey, claim] of tables.claims) if (isExpired(claim.expiresAt, now)) tables.claims.delete(otherKey);
    sweep.threshold = Math.max(1024, tables.claims.size * 2);
  }
  return true;
}
