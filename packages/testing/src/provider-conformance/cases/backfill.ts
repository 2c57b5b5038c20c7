// Back-fill is paged and resumable: a process stopped between pages leaves a resume token, and
// whoever runs maintain() next continues from it.
import { describe, expect, it } from 'vitest';
import { eventsNamed, minutesApart, storedMessages, type ProviderConformanceContext } from '../context.js';
import { OWNER, TENANT } from '../world.js';

const PAGE = 5;
const HISTORY = 12;

export function backfillCases(t: ProviderConformanceContext): void {
  describe('back-fill', () => {
    it('resumes a back-fill interrupted by a stopped process from its resume token, storing every message once', async () => {
      const world = await t.open({ engine: { backfillPageSize: PAGE } });
      world.driver.addMailbox(OWNER);
      const dates = minutesApart(HISTORY);
      const subjects = dates.map((_, index) => `History ${index + 1}`);
      for (const [index, subject] of subjects.entries())
        await world.driver.deliver({ to: OWNER, from: `sender${index}@elsewhere.test`, subject, text: 'x', date: dates[index]! });

      // The process stops as soon as its first page is committed.
      const first = world.tl;
      let stopped: Promise<void> | undefined;
      first.on('backfill.progress', (event) => {
        if (!stopped && event.progress.state === 'running') stopped = first.stop();
      });
      const connection = await world.connect();
      expect(stopped, 'the back-fill finished in one page: the adapter ignored pageSize').toBeDefined();
      await stopped;
      const interrupted = await first.connections.get(connection.id, { tenantId: TENANT, as: 'admin' });
      expect(interrupted.status).toBe('backfilling');
      expect(interrupted.backfill).toMatchObject({ state: 'running', done: PAGE });
      expect(interrupted.backfill.resume).not.toBeNull();
      expect(await storedMessages(first, connection.id)).toHaveLength(PAGE);

      const eventsBefore = world.events.length;
      const second = await world.restart();
      await second.maintain();
      // A push the stopped process acknowledged may have had its pull queued only in that process
      // (the in-process queue dies with it), and back-fill yields to an unserved push for up to 10 s:
      // the restarted host asks for one pull, as a "refresh" would. It fetches no history.
      await second.connections.sync(connection.id, { tenantId: TENANT, as: 'admin' });
      await world.settle();

      const stored = await storedMessages(second, connection.id);
      expect(stored.map((message) => message.subject).sort()).toEqual([...subjects].sort());
      expect(new Set(stored.map((message) => message.providerMessageId)).size).toBe(HISTORY);
      const resumed = await second.connections.get(connection.id, { tenantId: TENANT, as: 'admin' });
      expect(resumed.status).toBe('live');
      expect(resumed.backfill).toMatchObject({ state: 'done', done: HISTORY });
      // The new process fetched only what the first one had not: nothing was stored twice.
      const synced = eventsNamed(world.events.slice(eventsBefore), 'message.synced');
      expect(synced.every((event) => event.created)).toBe(true);
      expect(synced).toHaveLength(HISTORY - PAGE);
    });
  });
}
