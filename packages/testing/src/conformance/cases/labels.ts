// The label directory: one set of (id, name, kind) per connection, replaced whole by saveLabels,
// read per tenant by listLabels. Names live only here, so a rename never touches a message row.
import { describe, expect, it } from 'vitest';
import type { LabelRef } from '@threadlink/core/store';
import { expectError, expectNothingWritten, seed, type ConformanceContext } from '../context.js';
import { makeConnection, makeMessage } from '../fixtures.js';
import { snapshot } from '../raw.js';

const INBOX: LabelRef = { id: 'INBOX', name: 'Inbox', kind: 'system' };
const CLIENTS: LabelRef = { id: 'Label_1', name: 'Clients', kind: 'user' };

export function labelCases(t: ConformanceContext): void {
  describe('label directory', () => {
    it('saves a connection’s labels and lists them by connection then id', async () => {
      const first = makeConnection({ id: 'conn_a_labels' });
      const second = makeConnection({ id: 'conn_b_labels', tenantId: first.tenantId });
      await seed(t.store, first);
      await seed(t.store, second);
      await t.store.saveLabels(first.id, [INBOX, CLIENTS]);
      await t.store.saveLabels(second.id, [{ id: 'AAMk-archive', name: 'Archive', kind: 'system' }]);

      expect(await t.store.listLabels(first.tenantId, [second.id, first.id, first.id])).toEqual([
        { connectionId: first.id, ...INBOX },
        { connectionId: first.id, ...CLIENTS },
        { connectionId: second.id, id: 'AAMk-archive', name: 'Archive', kind: 'system' },
      ]);
      expect(await t.store.listLabels(first.tenantId, [first.id])).toHaveLength(2);
      expect(await t.store.listLabels(first.tenantId, [])).toEqual([]);
    });

    it('replaces the whole directory: a rename is one write, a label gone from the list is gone, messages untouched', async () => {
      const connection = makeConnection();
      const message = makeMessage(connection, { labels: ['INBOX', 'Label_1'] });
      await seed(t.store, connection, [message]);
      await t.store.saveLabels(connection.id, [INBOX, CLIENTS, { id: 'Label_2', name: 'Old', kind: 'user' }]);
      const messagesBefore = snapshot({ messages: (await t.raw.dump()).messages ?? [] });

      await t.store.saveLabels(connection.id, [INBOX, { ...CLIENTS, name: 'Key clients' }]);
      expect(await t.store.listLabels(connection.tenantId, [connection.id])).toEqual([
        { connectionId: connection.id, ...INBOX },
        { connectionId: connection.id, ...CLIENTS, name: 'Key clients' },
      ]);
      expect(snapshot({ messages: (await t.raw.dump()).messages ?? [] })).toEqual(messagesBefore);

      await t.store.saveLabels(connection.id, []);
      expect(await t.store.listLabels(connection.tenantId, [connection.id])).toEqual([]);
    });

    it('keeps the last entry of an id given twice', async () => {
      const connection = makeConnection();
      await seed(t.store, connection);
      await t.store.saveLabels(connection.id, [CLIENTS, { ...CLIENTS, name: 'Renamed' }]);
      expect(await t.store.listLabels(connection.tenantId, [connection.id])).toEqual([{ connectionId: connection.id, ...CLIENTS, name: 'Renamed' }]);
    });

    it('answers nothing for another tenant’s connection or an unknown one', async () => {
      const connection = makeConnection();
      await seed(t.store, connection);
      await t.store.saveLabels(connection.id, [INBOX]);
      expect(await t.store.listLabels('tenant_other', [connection.id])).toEqual([]);
      expect(await t.store.listLabels(connection.tenantId, ['conn_unknown'])).toEqual([]);
    });

    it('refuses an unknown connection and invalid labels, writing nothing', async () => {
      const connection = makeConnection();
      await seed(t.store, connection);
      await t.store.saveLabels(connection.id, [INBOX]);
      await expectNothingWritten(t.raw, async () => {
        await expectError(t.store.saveLabels('conn_unknown', [INBOX]), 'CONNECTION_NOT_FOUND');
        await expectError(t.store.saveLabels(connection.id, [{ id: 'X', name: 'X', kind: 'folder' } as unknown as LabelRef]), 'INVALID_INPUT');
        await expectError(t.store.saveLabels(connection.id, [{ id: '', name: 'X', kind: 'user' }]), 'INVALID_INPUT');
        await expectError(t.store.saveLabels(connection.id, [{ ...CLIENTS, snippet: 'body text' } as unknown as LabelRef]), 'CONTENT_FORBIDDEN');
        await expectError(t.store.saveLabels(connection.id, 'INBOX' as unknown as LabelRef[]), 'INVALID_INPUT');
        await expectError(t.store.listLabels('', [connection.id]), 'INVALID_INPUT');
      });
    });
  });
}
