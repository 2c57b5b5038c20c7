// Tenant isolation: through every tenant-scoped method, tenant B reads and changes nothing of A.
import { describe, expect, it } from 'vitest';
import { getMessage, listThread } from '@threadlink/core/store';
import { expectError, expectNothingWritten, linkSummary, seed, type ConformanceContext } from '../context.js';
import { makeConnection, makeLink, makeManualLink, makeManualUnlink, makeMessage, makeRecord } from '../fixtures.js';

export function tenancyCases(t: ConformanceContext): void {
  describe('tenant isolation', () => {
    async function twoTenants() {
      const alpha = makeConnection();
      const beta = makeConnection();
      // The same CRM record id in both tenants: ids are only unique within a tenant.
      const client = makeRecord('client');
      const project = makeRecord('project');
      const message = makeMessage(alpha, { from: { address: 'ana@acme.example' }, referenceTokens: ['PRJ-7'] });
      const reply = makeMessage(alpha, { threadId: message.threadId, providerThreadId: message.providerThreadId, receivedAt: message.receivedAt + 1 });
      await seed(t.store, alpha, [message, reply], [makeLink(message, client)], 'history-a');
      await t.store.saveManualLink(alpha.tenantId, makeManualLink(reply, project));
      const betaMessage = makeMessage(beta, { from: { address: 'ana@acme.example' }, referenceTokens: ['PRJ-7'] });
      await seed(t.store, beta, [betaMessage], [makeLink(betaMessage, client)]);
      return { alpha, beta, client, project, message, reply, betaMessage };
    }

    it('answers null or nothing to every read by another tenant', async () => {
      const { alpha, beta, client, project, message, reply, betaMessage } = await twoTenants();
      const other = beta.tenantId;
      expect(await getMessage(t.store, other, message.id)).toBeNull();
      expect(await t.store.getMessages(other, [message.id, reply.id])).toEqual([]);
      expect(await listThread(t.store, other, message.threadId)).toEqual([]);
      expect(await listThread(t.store, other, message.threadId, [alpha.id])).toEqual([]);
      expect(await t.store.listThreads(other, [message.threadId], [alpha.id])).toEqual([]);
      expect(await t.store.listThreads(other, [message.threadId])).toEqual([]);
      const hits = await t.store.findMessageIds(
        other,
        { addresses: ['ana@acme.example'], domains: ['acme.example'], referenceTokens: ['PRJ-7'], threadIds: [message.threadId] },
        { limit: 50 },
      );
      expect(hits).toEqual({ ids: [betaMessage.id], next: null });
      const betaTimeline = await t.store.timeline({ tenantId: other, record: client, wholeThreads: true, limit: 50 });
      expect(betaTimeline.threads.map((thread) => thread.threadId)).toEqual([betaMessage.threadId]);
      expect(await t.store.timeline({ tenantId: other, record: client, wholeThreads: true, limit: 50, connectionIds: [alpha.id] })).toEqual({
        threads: [],
        next: null,
      });
      expect(await t.store.timeline({ tenantId: other, record: project, wholeThreads: false, limit: 50 })).toEqual({ threads: [], next: null });
      expect((await t.store.listConnections({ tenantId: other })).map((connection) => connection.id)).toEqual([beta.id]);
      // And tenant A still sees its own, only its own.
      const alphaTimeline = await t.store.timeline({ tenantId: alpha.tenantId, record: client, wholeThreads: true, limit: 50 });
      expect(alphaTimeline.threads.map((thread) => thread.threadId)).toEqual([message.threadId]);
      expect(alphaTimeline.threads[0]?.messages.map((stored) => stored.id)).toEqual([message.id, reply.id]);
    });

    it('changes nothing of tenant A through any write by tenant B', async () => {
      const { alpha, beta, client, project, message, reply } = await twoTenants();
      const other = beta.tenantId;
      await expectNothingWritten(t.raw, async () => {
        expect(await t.store.addLinks(other, [makeLink(message, makeRecord('company')), makeLink(reply, client)])).toBe(0);
        await expectError(t.store.saveManualLink(other, makeManualUnlink(message, client)), 'NOT_FOUND');
        expect(await t.store.removeLink(other, reply.id, project)).toBe(false);
        await expectError(t.store.applySync(beta.id, { upserts: [{ ...message, connectionId: beta.id }], deletes: [], links: [] }), 'INVALID_INPUT');
        await expectError(t.store.saveConnection({ ...alpha, tenantId: other }), 'INVALID_INPUT');
      });
      const stored = await getMessage(t.store, alpha.tenantId, message.id);
      expect(linkSummary(stored).map((link) => link.record)).toEqual([`client:${client.id}`]);
      expect((await t.store.getConnection(alpha.id))?.tenantId).toBe(alpha.tenantId);
    });
  });
}
