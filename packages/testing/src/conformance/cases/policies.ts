// Ingestion policy storage (issue 18): the tenant's and a connection's policy round-trip with
// defaults filled in, stay inside their tenant, go with purgeConnection; purgeMessages removes
// exactly the messages asked with every link and index row of them (checked on the physical rows).
import { describe, expect, it } from 'vitest';
import { ConnectionPolicy, TenantPolicy, type MessageMeta } from '@threadlink/core/store';
import { expectError, expectNothingWritten, seed, type ConformanceContext } from '../context.js';
import { makeConnection, makeLink, makeManualLink, makeMessage, makeRecord, uniqueId } from '../fixtures.js';
import { rowsMentioning } from '../raw.js';

export function policyCases(t: ConformanceContext): void {
  describe('ingestion policies', () => {
    it('round-trips the tenant and connection policies, each within its tenant', async () => {
      const connection = makeConnection();
      await seed(t.store, connection);
      expect(await t.store.getPolicies(connection.tenantId, connection.id)).toEqual({ tenant: null, connection: null });
      const tenant = TenantPolicy.parse({ exclude: ['*.hr.example.com'], ownDomains: ['example.com'], internalOnly: 'skip' });
      const own = ConnectionPolicy.parse({ exclude: ['doctor@clinic.example'], store: 'matched', folders: { exclude: ['spam'] } });
      await t.store.savePolicy(connection.tenantId, null, tenant);
      await t.store.savePolicy(connection.tenantId, connection.id, own);
      expect(await t.store.getPolicies(connection.tenantId, connection.id)).toEqual({ tenant, connection: own });
      expect(await t.store.getPolicies(connection.tenantId)).toEqual({ tenant, connection: null });
      // Replaced, not merged.
      const replaced = ConnectionPolicy.parse({ labels: { include: ['Label_7'] } });
      await t.store.savePolicy(connection.tenantId, connection.id, replaced);
      expect((await t.store.getPolicies(connection.tenantId, connection.id)).connection).toEqual(replaced);
      // Another tenant sees none of it and cannot write to this connection.
      const other = uniqueId('tenant');
      expect(await t.store.getPolicies(other, connection.id)).toEqual({ tenant: null, connection: null });
      await expectError(t.store.savePolicy(other, connection.id, replaced), 'CONNECTION_NOT_FOUND');
      await expectError(t.store.savePolicy(connection.tenantId, uniqueId('conn'), replaced), 'CONNECTION_NOT_FOUND');
    });

    it('getSyncContext answers the connection with its policies in one read, as getConnection and getPolicies do', async () => {
      const connection = makeConnection();
      const neighbour = makeConnection({ tenantId: connection.tenantId });
      await seed(t.store, connection);
      await seed(t.store, neighbour);
      expect(await t.store.getSyncContext(connection.id)).toEqual({
        connection: await t.store.getConnection(connection.id),
        policies: { tenant: null, connection: null },
      });
      const tenant = TenantPolicy.parse({ exclude: ['*.hr.example.com'] });
      const own = ConnectionPolicy.parse({ store: 'matched' });
      await t.store.savePolicy(connection.tenantId, null, tenant);
      await t.store.savePolicy(connection.tenantId, connection.id, own);
      // The neighbour's own policy is not this connection's; the tenant's applies to both.
      await t.store.savePolicy(neighbour.tenantId, neighbour.id, ConnectionPolicy.parse({ exclude: ['doctor@clinic.example'] }));
      const context = await t.store.getSyncContext(connection.id);
      expect(context).toEqual({ connection: await t.store.getConnection(connection.id), policies: { tenant, connection: own } });
      expect(context?.policies).toEqual(await t.store.getPolicies(connection.tenantId, connection.id));
      // Another tenant's policy never applies.
      const stranger = makeConnection();
      await seed(t.store, stranger);
      expect((await t.store.getSyncContext(stranger.id))?.policies).toEqual({ tenant: null, connection: null });
      expect(await t.store.getSyncContext(uniqueId('conn'))).toBeNull();
    });

    it('refuses an invalid policy and writes nothing', async () => {
      const connection = makeConnection();
      await seed(t.store, connection);
      await expectNothingWritten(t.raw, async () => {
        await expectError(t.store.savePolicy(connection.tenantId, null, { exclude: ['not a rule'] } as never), 'INVALID_INPUT');
        await expectError(t.store.savePolicy(connection.tenantId, connection.id, { ownDomains: ['example.com'] } as never), 'INVALID_INPUT');
        await expectError(t.store.savePolicy(connection.tenantId, null, { store: 'some' } as never), 'INVALID_INPUT');
        await expectError(t.store.savePolicy('', null, TenantPolicy.parse({})), 'INVALID_INPUT');
      });
    });

    it('purges the messages asked, with their links and index rows, and nothing else', async () => {
      const connection = makeConnection();
      const secret = `${uniqueId('private')}@clinic.example`;
      const client = makeRecord('client');
      const gone = [
        makeMessage(connection, { from: { address: secret }, referenceTokens: ['PRJ-77'] }),
        makeMessage(connection, { cc: [{ address: secret }] }),
      ] as [MessageMeta, MessageMeta];
      const kept = makeMessage(connection);
      await seed(t.store, connection, [...gone, kept], [makeLink(gone[0], client), makeLink(kept, client)]);
      await t.store.saveManualLink(connection.tenantId, makeManualLink(gone[1], client));
      const otherTenant = uniqueId('tenant');
      expect(await t.store.purgeMessages(otherTenant, [gone[0].id])).toEqual({ messageIds: [], links: 0 });
      const report = await t.store.purgeMessages(connection.tenantId, [gone[1].id, uniqueId('msg'), gone[0].id, gone[1].id]);
      expect(report).toEqual({ messageIds: [gone[1].id, gone[0].id], links: 2 });
      expect(await t.store.getMessages(connection.tenantId, [gone[0].id, gone[1].id, kept.id])).toHaveLength(1);
      expect(rowsMentioning(await t.raw.dump(), [secret, gone[0].id, gone[1].id, 'PRJ-77'])).toEqual([]);
      const found = await t.store.findMessageIds(connection.tenantId, { addresses: [secret], referenceTokens: ['PRJ-77'] }, { limit: 10 });
      expect(found.ids).toEqual([]);
      expect(await t.store.listProviderMessageIds(connection.id)).toEqual([kept.providerMessageId]);
      await expectError(
        t.store.purgeMessages(
          connection.tenantId,
          Array.from({ length: 1001 }, (_, index) => `m${index}`),
        ),
        'INVALID_INPUT',
      );
    });

    it("deletes a connection's policy with the connection, and keeps the tenant's", async () => {
      const connection = makeConnection();
      await seed(t.store, connection);
      const marker = `${uniqueId('excluded')}@example.com`;
      await t.store.savePolicy(connection.tenantId, null, TenantPolicy.parse({ exclude: ['tenant.example'] }));
      await t.store.savePolicy(connection.tenantId, connection.id, ConnectionPolicy.parse({ exclude: [marker] }));
      await t.store.purgeConnection(connection.id);
      expect(rowsMentioning(await t.raw.dump(), [marker])).toEqual([]);
      expect((await t.store.getPolicies(connection.tenantId)).tenant?.exclude).toEqual(['tenant.example']);
    });
  });
}
