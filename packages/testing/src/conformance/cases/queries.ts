// Message reads: index look-ups behind rematch, threads, batches (and core's single-item reads
// derived from them, so a backend's batch reads are checked through both).
import { describe, expect, it } from 'vitest';
import { getMessage, listThread } from '@threadlink/core/store';
import { byBinary, expectError, seed, type ConformanceContext } from '../context.js';
import { FIXTURE_EPOCH, makeConnection, makeMessage } from '../fixtures.js';

export function queryCases(t: ConformanceContext): void {
  describe('message queries', () => {
    it('findMessageIds unions addresses, domains, reference tokens and thread ids, ascending, page by page', async () => {
      const connection = makeConnection();
      const byAddress = makeMessage(connection, { from: { address: 'ana@acme.example' } });
      const byCc = makeMessage(connection, { from: null, cc: [{ address: 'ANA@acme.example' }] });
      const byReplyTo = makeMessage(connection, { replyTo: [{ address: 'ana@acme.example' }] });
      const byBcc = makeMessage(connection, { bcc: [{ address: 'bob@bigco-partner.example' }] });
      const byDomain = makeMessage(connection, { to: [{ address: 'carol@acme.example' }] });
      const byReference = makeMessage(connection, { referenceTokens: ['PRJ-1042'] });
      const byThread = makeMessage(connection);
      const miss = makeMessage(connection, { referenceTokens: ['PRJ-9999'], from: { address: 'noise@elsewhere.example' } });
      await seed(t.store, connection, [byAddress, byCc, byReplyTo, byBcc, byDomain, byReference, byThread, miss]);

      const query = { addresses: ['Ana@Acme.example'], domains: ['bigco-partner.example'], referenceTokens: ['PRJ-1042'], threadIds: [byThread.threadId] };
      const expected = [byAddress, byCc, byReplyTo, byBcc, byReference, byThread].map((message) => message.id).sort(byBinary);
      const collected: string[] = [];
      let after: string | null = null;
      let pages = 0;
      do {
        const page: { ids: string[]; next: string | null } = await t.store.findMessageIds(connection.tenantId, query, { limit: 4, after });
        collected.push(...page.ids);
        after = page.next;
        pages += 1;
      } while (after !== null && pages < 10);
      expect(pages).toBe(2);
      expect(collected).toEqual(expected);

      const domainHits = await t.store.findMessageIds(connection.tenantId, { domains: ['ACME.example'] }, { limit: 50 });
      expect(domainHits.ids).toEqual([byAddress, byCc, byReplyTo, byDomain].map((message) => message.id).sort(byBinary));
      expect(await t.store.findMessageIds(connection.tenantId, {}, { limit: 50 })).toEqual({ ids: [], next: null });
      expect(await t.store.findMessageIds(connection.tenantId, { referenceTokens: ['prj-1042'] }, { limit: 50 })).toEqual({ ids: [], next: null });
      await expectError(t.store.findMessageIds(connection.tenantId, query, { limit: 4, after: '%%%' }), 'INVALID_INPUT');
    });

    it('lists a thread oldest first (ties by id), optionally for some connections only', async () => {
      const ana = makeConnection();
      const bob = makeConnection({ tenantId: ana.tenantId });
      const threadId = `thr_${ana.id}_conversation`;
      const third = makeMessage(ana, { threadId, receivedAt: FIXTURE_EPOCH + 3_000 });
      const first = makeMessage(ana, { threadId, receivedAt: FIXTURE_EPOCH + 1_000 });
      const tiedLeft = makeMessage(bob, { threadId, receivedAt: FIXTURE_EPOCH + 2_000 });
      const tiedRight = makeMessage(ana, { threadId, receivedAt: FIXTURE_EPOCH + 2_000 });
      await seed(t.store, ana, [third, first, tiedRight, makeMessage(ana)]);
      await seed(t.store, bob, [tiedLeft]);
      const tied = [tiedLeft, tiedRight].map((message) => message.id).sort(byBinary);
      expect((await listThread(t.store, ana.tenantId, threadId)).map((message) => message.id)).toEqual([first.id, ...tied, third.id]);
      expect((await listThread(t.store, ana.tenantId, threadId, [ana.id])).map((message) => message.id)).toEqual([first.id, tiedRight.id, third.id]);
      expect(await listThread(t.store, ana.tenantId, 'thr_unknown')).toEqual([]);
    });

    it('lists several threads in one call, oldest first (ties by id), optionally for some connections only', async () => {
      const ana = makeConnection();
      const bob = makeConnection({ tenantId: ana.tenantId });
      const stranger = makeConnection();
      const first = `thr_${ana.id}_first`;
      const second = `thr_${ana.id}_second`;
      const a3 = makeMessage(ana, { threadId: first, receivedAt: FIXTURE_EPOCH + 3_000 });
      const a1 = makeMessage(ana, { threadId: first, receivedAt: FIXTURE_EPOCH + 1_000 });
      const b2 = makeMessage(ana, { threadId: second, receivedAt: FIXTURE_EPOCH + 2_000 });
      const tiedLeft = makeMessage(bob, { threadId: second, receivedAt: FIXTURE_EPOCH + 2_000 });
      const elsewhere = makeMessage(ana);
      // The same thread id in another tenant is another thread.
      const otherTenant = makeMessage(stranger, { threadId: first, receivedAt: FIXTURE_EPOCH });
      await seed(t.store, ana, [a3, a1, b2, elsewhere]);
      await seed(t.store, bob, [tiedLeft]);
      await seed(t.store, stranger, [otherTenant]);
      const tied = [b2, tiedLeft].map((message) => message.id).sort(byBinary);
      const ids = async (threadIds: string[], connectionIds?: string[]) =>
        (await t.store.listThreads(ana.tenantId, threadIds, connectionIds)).map((message) => message.id);
      expect(await ids([second, first, 'thr_unknown', first])).toEqual([a1.id, ...tied, a3.id]);
      expect(await ids([first, second], [ana.id])).toEqual([a1.id, b2.id, a3.id]);
      expect(await ids([first], [])).toEqual([]);
      expect(await ids([])).toEqual([]);
      const [withLinks] = await t.store.listThreads(ana.tenantId, [first]);
      expect(withLinks?.links).toEqual([]);
      expect(withLinks?.threadId).toBe(first);
      await expectError(t.store.listThreads(ana.tenantId, 'thr_x' as never), 'INVALID_INPUT');
    });

    it('getMessages answers in the order asked and skips unknown ids', async () => {
      const connection = makeConnection();
      const first = makeMessage(connection);
      const second = makeMessage(connection);
      await seed(t.store, connection, [first, second]);
      const found = await t.store.getMessages(connection.tenantId, [second.id, 'msg_unknown', first.id]);
      expect(found.map((message) => message.id)).toEqual([second.id, first.id]);
      expect(await getMessage(t.store, connection.tenantId, 'msg_unknown')).toBeNull();
      expect(await t.store.getMessageByProviderId(connection.id, 'pm_unknown')).toBeNull();
    });
  });
}
