// Webhook intake's look-up of the connections behind a provider account (a Gmail push names the
// mailbox's address), remembered: pushes for a mailbox then cost the store no read each (issue 21).
// Only non-empty answers are kept, so a newly connected mailbox is found on its first push, and an
// address is forgotten as soon as one of its connections goes live in this process (`forget`, on
// `connection.live`). How long an answer is kept depends on the store:
// - with `claimPushesForAccounts`, CHECKED_LOOKUP_TTL_MS: every push's claim also reads the address's
//   current connections in its own transaction, and intake forgets the answer (and hands the push to
//   a connection it did not know) the moment they differ, so a connection made or removed by another
//   instance is noticed on the next push, as with no memory at all (webhooks/receive.ts);
// - without it, LOOKUP_TTL_MS, a burst: what a remembered answer can miss then, for at most that long,
//   is a second connection of the address made on ANOTHER instance (its push waits for the next one
//   or the safety net) and a disconnection (its push queues a job that finds it disconnected).
import type { Connection, ProviderId } from '../domain/schemas.js';
import type { Clock } from '../util/clock.js';

/** How long an account's connections are remembered when nothing checks them: a burst, not a session. */
export const LOOKUP_TTL_MS = 2_000;
/** How long when every push's claim checks them (`claimPushesForAccounts`): bounds only the memory held. */
export const CHECKED_LOOKUP_TTL_MS = 10 * 60_000;
/** Accounts remembered at most (the oldest is forgotten first). */
const MAX_ACCOUNTS = 10_000;

type AccountLookup = (provider: ProviderId, accountEmail: string) => Promise<Connection[]>;

/** An answer and where it came from: a remembered one's health may be as old as the memory. */
interface LookedUp {
  connections: Connection[];
  remembered: boolean;
}

export interface RememberedAccountLookup {
  (provider: ProviderId, accountEmail: string): Promise<LookedUp>;
  /** Drops what is remembered of an address (a connection of it went live here). */
  forget(provider: ProviderId, accountEmail: string): void;
  /** Addresses remembered now: expired answers are dropped as lookups go on, not kept until MAX_ACCOUNTS. */
  readonly size: number;
}

/** Freezes a copy all the way down: a remembered answer is shared by every push of a burst. */
function frozenCopy<T>(value: T): T {
  const freeze = (item: unknown): void => {
    if (item === null || typeof item !== 'object' || Object.isFrozen(item)) return;
    Object.freeze(item);
    for (const child of Object.values(item)) freeze(child);
  };
  const copy = structuredClone(value);
  freeze(copy);
  return copy;
}

/**
 * `lookup` behind a short memory. A copy goes in (the caller may change what the store answered);
 * a remembered answer comes out frozen rather than copied again for every push of a burst (a deep
 * copy per push was a measurable part of its cost): whoever gets one reads it, never changes it.
 */
export function rememberedAccountLookup(lookup: AccountLookup, clock: Clock, ttlMs = LOOKUP_TTL_MS): RememberedAccountLookup {
  const remembered = new Map<string, { connections: readonly Connection[]; until: number }>();
  const read = async (provider: ProviderId, accountEmail: string): Promise<LookedUp> => {
    const key = `${provider}:${accountEmail.toLowerCase()}`;
    const now = clock.now();
    // Insertion order is expiry order (one TTL, a clock that moves forward): expired answers leave
    // from the front. Without this, every address that ever got a push stayed, with copies of its
    // connections, until MAX_ACCOUNTS (the soak's heap snapshots: the map grew all run).
    for (const [oldKey, entry] of remembered) {
      if (entry.until > now || oldKey === key) break;
      remembered.delete(oldKey);
    }
    const hit = remembered.get(key);
    if (hit && hit.until > now) return { connections: [...hit.connections], remembered: true };
    remembered.delete(key);
    const connections = await lookup(provider, accountEmail);
    if (connections.length > 0) {
      if (remembered.size >= MAX_ACCOUNTS) remembered.delete(remembered.keys().next().value as string);
      remembered.set(key, { connections: frozenCopy(connections), until: now + ttlMs });
    }
    return { connections, remembered: false };
  };
  return Object.defineProperties(read, {
    forget: {
      value(provider: ProviderId, accountEmail: string): void {
        remembered.delete(`${provider}:${accountEmail.toLowerCase()}`);
      },
    },
    size: { get: () => remembered.size },
  }) as RememberedAccountLookup;
}
