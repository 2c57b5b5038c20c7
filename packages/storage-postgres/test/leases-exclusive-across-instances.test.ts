// Leases across app instances: several stores on one database (each its own pool connections)
// stand in for several engine processes. A key is never held by two owners at once.
import { afterAll, describe, expect, it } from 'vitest';
import type { SqlMetadataStore } from '../src/index.js';
import { backends } from './backends.js';

for (const backend of backends) {
  describe.skipIf(!backend.available)(`leases across instances (${backend.name})`, () => {
    const opened: SqlMetadataStore[] = [];
    afterAll(async () => {
      for (const store of opened) await store.close();
    });
    const instances = async (count: number): Promise<SqlMetadataStore[]> => {
      const first = await backend.makeStore();
      const all = [first, ...Array.from({ length: count - 1 }, () => backend.sibling(first))];
      opened.push(...all);
      return all;
    };

    it('grants one contended key to exactly one of 40 concurrent acquirers', async () => {
      const stores = await instances(4);
      const now = Date.now();
      const attempts = Array.from({ length: 40 }, (_, index) => ({ store: stores[index % stores.length]!, owner: `engine-${index}` }));
      const granted = await Promise.all(attempts.map(({ store, owner }) => store.acquireLease({ key: 'connection:c-contended', owner, ttlMs: 60_000, now })));
      expect(granted.filter(Boolean)).toHaveLength(1);
      const winner = attempts[granted.indexOf(true)]!.owner;
      const rows = await stores[0]!.sql.query<{ owner: string }>(`SELECT owner FROM "${stores[0]!.schema}".leases WHERE key = $1`, ['connection:c-contended']);
      expect(rows.rows).toEqual([{ owner: winner }]);

      // After expiry, again exactly one of the others takes it over.
      const later = now + 60_000;
      const takeover = await Promise.all(
        attempts.map(({ store, owner }) => store.acquireLease({ key: 'connection:c-contended', owner: `${owner}-later`, ttlMs: 60_000, now: later })),
      );
      expect(takeover.filter(Boolean)).toHaveLength(1);
    });

    it('never lets two workers hold the same key while they acquire, work and release in a loop', async () => {
      const stores = await instances(3);
      const keys = ['connection:a', 'connection:b', 'connection:c'];
      const holders = new Map<string, string>();
      const overlaps: string[] = [];
      let grants = 0;
      const worker = async (store: SqlMetadataStore, owner: string): Promise<void> => {
        for (let round = 0; round < 15; round += 1) {
          const key = keys[(round + owner.length) % keys.length]!;
          if (!(await store.acquireLease({ key, owner, ttlMs: 60_000, now: Date.now() }))) continue;
          grants += 1;
          if (holders.has(key)) overlaps.push(`${key}: ${holders.get(key)} and ${owner}`);
          holders.set(key, owner);
          await new Promise((resolve) => setTimeout(resolve, 1)); // the work done under the lease: others run meanwhile
          holders.delete(key);
          await store.releaseLease(key, owner);
        }
      };
      await Promise.all(Array.from({ length: 12 }, (_, index) => worker(stores[index % stores.length]!, `worker-${index}${'x'.repeat(index % 3)}`)));
      expect(overlaps).toEqual([]);
      expect(grants).toBeGreaterThan(0);
    });
  });
}
