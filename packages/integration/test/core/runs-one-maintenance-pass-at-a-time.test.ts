// Issue 23's soak (10,000 mailboxes on BullMQ): a maintenance pass outlasted the 60 s timer, the
// timer started the next one anyway, and every pass left running held its own list of every
// connection (heap after GC up 18 MB a step). One pass at a time; a call during a pass joins it.
import type { ConnectionQuery, MetadataStore } from '@threadlink/core/store';
import { memoryStore } from '@threadlink/storage-memory';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { connectedHarness } from './support/harness.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

/** A memory store whose maintenance read (every live and back-filling mailbox) takes `slowMs`; counts such reads in flight. */
function slowMaintenanceReads(slowMs: number) {
  const inner = memoryStore();
  const seen = { passes: 0, inFlight: 0, most: 0 };
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (property !== 'listConnections' || typeof value !== 'function') return value;
      return async (query: ConnectionQuery) => {
        if (!query.status?.includes('backfilling')) return value.call(target, query);
        seen.passes += 1;
        seen.inFlight += 1;
        seen.most = Math.max(seen.most, seen.inFlight);
        try {
          // The slow read being modelled (10,000 rows under load), not a wait for something.
          await new Promise((resolve) => setTimeout(resolve, slowMs));
          return await value.call(target, query);
        } finally {
          seen.inFlight -= 1;
        }
      };
    },
  }) as MetadataStore;
  return { store, seen };
}

describe('maintenance', () => {
  it('never overlaps a pass slower than its interval with the next one', async () => {
    const { store, seen } = slowMaintenanceReads(150);
    const { tl } = await connectedHarness({ store, maintenanceIntervalMs: 20 });
    stops.push(() => tl.stop());
    await vi.waitFor(() => expect(seen.passes).toBeGreaterThanOrEqual(3), { timeout: 10_000, interval: 10 });
    expect(seen.most).toBe(1);
  });

  it('gives a call made during a pass that pass and its report', async () => {
    const { store, seen } = slowMaintenanceReads(100);
    const { tl } = await connectedHarness({ store });
    stops.push(() => tl.stop());
    const before = seen.passes;
    const [first, second] = await Promise.all([tl.maintain(), tl.maintain()]);
    expect(second).toBe(first);
    expect(seen.passes - before).toBe(1);
    // Once it is over, the next call is a pass of its own.
    await tl.maintain();
    expect(seen.passes - before).toBe(2);
  });
});
