// Record timelines: which threads, which of their messages, in which order, page by page.
import { describe, expect, it } from 'vitest';
import type { Connection, MessageMeta, RecordLink, RecordRef } from '@threadlink/core/store';
import { byBinary, expectError, seed, type ConformanceContext } from '../context.js';
import { FIXTURE_EPOCH, makeConnection, makeLink, makeManualUnlink, makeMessage, makeRecord, uniqueId } from '../fixtures.js';

/** A thread of `size` messages a minute apart ending at `lastAt`, linked to `record` on `linkedIndex` (if any). */
function thread(connection: Connection, record: RecordRef, lastAt: number, size: number, linkedIndex: number | null = 0) {
  const providerThreadId = uniqueId('pt');
  const messages: MessageMeta[] = Array.from({ length: size }, (_, index) =>
    makeMessage(connection, { providerThreadId, threadId: `thr_${connection.id}_${providerThreadId}`, receivedAt: lastAt - (size - 1 - index) * 60_000 }),
  );
  const links: RecordLink[] = linkedIndex === null ? [] : [makeLink(messages[linkedIndex] as MessageMeta, record)];
  return { threadId: (messages[0] as MessageMeta).threadId, lastAt, messages, links };
}

export function timelineCases(t: ConformanceContext): void {
  describe('timeline', () => {
    it('pages through 120 threads 25 at a time: each exactly once, newest first, while new mail arrives', async () => {
      const connection = makeConnection();
      const client = makeRecord('client');
      // Groups of three threads share a lastActivityAt, so the threadId tie-break is exercised.
      const threads = Array.from({ length: 120 }, (_, index) =>
        thread(connection, client, FIXTURE_EPOCH + Math.floor(index / 3) * 1_000, 1 + (index % 2), index % 2),
      );
      await seed(
        t.store,
        connection,
        threads.flatMap((entry) => entry.messages),
        threads.flatMap((entry) => entry.links),
      );
      const expected = [...threads]
        .sort((left, right) => right.lastAt - left.lastAt || byBinary(right.threadId, left.threadId))
        .map((entry) => ({ threadId: entry.threadId, lastActivityAt: entry.lastAt }));

      const seen: Array<{ threadId: string; lastActivityAt: number }> = [];
      let after: string | null = null;
      let pages = 0;
      do {
        const page = await t.store.timeline({ tenantId: connection.tenantId, record: client, wholeThreads: true, limit: 25, after });
        pages += 1;
        expect(page.threads.length).toBeLessThanOrEqual(25);
        seen.push(...page.threads.map((entry) => ({ threadId: entry.threadId, lastActivityAt: entry.lastActivityAt })));
        after = page.next;
        if (pages === 2) {
          // Between pages: five brand-new threads, and a reply in a thread already shown.
          const fresh = Array.from({ length: 5 }, (_, index) => thread(connection, client, FIXTURE_EPOCH + 10_000_000 + index, 1));
          const shown = threads.find((entry) => entry.threadId === seen[0]?.threadId);
          const reply = makeMessage(connection, {
            providerThreadId: shown?.messages[0]?.providerThreadId ?? 'pt_missing',
            threadId: shown?.threadId ?? 'thr_missing',
            receivedAt: FIXTURE_EPOCH + 20_000_000,
          });
          await t.store.applySync(connection.id, {
            upserts: [...fresh.flatMap((entry) => entry.messages), reply],
            deletes: [],
            links: fresh.flatMap((entry) => entry.links),
          });
        }
      } while (after !== null && pages < 20);
      expect(pages).toBe(5);
      expect(seen).toEqual(expected);

      const all = await t.store.timeline({ tenantId: connection.tenantId, record: client, wholeThreads: true, limit: 200 });
      expect(all.threads).toHaveLength(125);
      expect(all.next).toBeNull();
    });

    it('shows whole threads for wholeThreads and only the linked messages otherwise, oldest first with links', async () => {
      const connection = makeConnection();
      const project = makeRecord('project');
      const touched = thread(connection, project, FIXTURE_EPOCH + 600_000, 3, 1);
      const untouched = thread(connection, makeRecord('project'), FIXTURE_EPOCH + 900_000, 2, 0);
      const unlinked = thread(connection, project, FIXTURE_EPOCH + 950_000, 2, 0);
      await seed(
        t.store,
        connection,
        [...touched.messages, ...untouched.messages, ...unlinked.messages],
        [...touched.links, ...untouched.links, ...unlinked.links],
      );
      await t.store.saveManualLink(connection.tenantId, makeManualUnlink(unlinked.messages[0] as MessageMeta, project));

      const whole = await t.store.timeline({ tenantId: connection.tenantId, record: project, wholeThreads: true, limit: 10 });
      expect(whole.next).toBeNull();
      expect(whole.threads).toHaveLength(1);
      expect(whole.threads[0]?.threadId).toBe(touched.threadId);
      expect(whole.threads[0]?.lastActivityAt).toBe(touched.lastAt);
      expect(whole.threads[0]?.messages.map((message) => message.id)).toEqual(touched.messages.map((message) => message.id));
      expect(whole.threads[0]?.messages.map((message) => message.links.length)).toEqual([0, 1, 0]);
      expect(whole.threads[0]?.messages[1]?.links).toEqual(touched.links);

      const linked = await t.store.timeline({ tenantId: connection.tenantId, record: project, wholeThreads: false, limit: 10 });
      expect(linked.threads).toHaveLength(1);
      expect(linked.threads[0]?.messages.map((message) => message.id)).toEqual([touched.messages[1]?.id]);
      expect(linked.threads[0]?.lastActivityAt).toBe(touched.messages[1]?.receivedAt);
    });

    it('matches the record by type and id together', async () => {
      const connection = makeConnection();
      const sharedId = uniqueId('record');
      const client = makeRecord('client', { id: sharedId });
      const project = makeRecord('project', { id: sharedId });
      const forClient = thread(connection, client, FIXTURE_EPOCH, 1);
      const forProject = thread(connection, project, FIXTURE_EPOCH + 1, 1);
      await seed(t.store, connection, [...forClient.messages, ...forProject.messages], [...forClient.links, ...forProject.links]);
      const page = await t.store.timeline({
        tenantId: connection.tenantId,
        record: { type: 'client', id: sharedId, label: 'Any label' },
        wholeThreads: true,
        limit: 10,
      });
      expect(page.threads.map((entry) => entry.threadId)).toEqual([forClient.threadId]);
    });

    it('restricts threads and their messages to the visible connections', async () => {
      const mine = makeConnection();
      const colleague = makeConnection({ tenantId: mine.tenantId });
      const client = makeRecord('client');
      const ownThread = thread(mine, client, FIXTURE_EPOCH + 1_000, 1);
      const theirThread = thread(colleague, client, FIXTURE_EPOCH + 2_000, 1);
      // One conversation both mailboxes hold (a tenant-wide thread id), linked only on the colleague's copy.
      const sharedThreadId = `thr_shared_${uniqueId('thread')}`;
      const sharedMine = makeMessage(mine, { threadId: sharedThreadId, receivedAt: FIXTURE_EPOCH + 3_000 });
      const sharedTheirs = makeMessage(colleague, { threadId: sharedThreadId, receivedAt: FIXTURE_EPOCH + 4_000 });
      await seed(t.store, mine, [...ownThread.messages, sharedMine], ownThread.links);
      await seed(t.store, colleague, [...theirThread.messages, sharedTheirs], [...theirThread.links, makeLink(sharedTheirs, client)]);

      const query = { tenantId: mine.tenantId, record: client, wholeThreads: true, limit: 10 };
      const everyone = await t.store.timeline(query);
      expect(everyone.threads.map((entry) => entry.threadId)).toEqual([sharedThreadId, theirThread.threadId, ownThread.threadId]);
      expect(everyone.threads[0]?.messages.map((message) => message.id)).toEqual([sharedMine.id, sharedTheirs.id]);

      const onlyMine = await t.store.timeline({ ...query, connectionIds: [mine.id] });
      expect(onlyMine.threads.map((entry) => entry.threadId)).toEqual([ownThread.threadId]);
      expect(await t.store.timeline({ ...query, connectionIds: [] })).toEqual({ threads: [], next: null });

      const onlyTheirs = await t.store.timeline({ ...query, connectionIds: [colleague.id] });
      expect(onlyTheirs.threads.map((entry) => entry.threadId)).toEqual([sharedThreadId, theirThread.threadId]);
      expect(onlyTheirs.threads[0]?.messages.map((message) => message.id)).toEqual([sharedTheirs.id]);
    });

    it('rejects a malformed page cursor and a non-positive limit', async () => {
      const connection = makeConnection();
      await seed(t.store, connection);
      const query = { tenantId: connection.tenantId, record: makeRecord('client'), wholeThreads: true };
      await expectError(t.store.timeline({ ...query, limit: 10, after: 'not-a-cursor' }), 'INVALID_INPUT');
      await expectError(t.store.timeline({ ...query, limit: 0 }), 'INVALID_INPUT');
    });
  });
}
