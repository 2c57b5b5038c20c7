// Record links: automatic ones follow the rules, manual decisions (link and unlink) win and last.
import { describe, expect, it } from 'vitest';
import { getMessage } from '@threadlink/core/store';
import { expectError, expectNothingWritten, linkSummary, seed, type ConformanceContext } from '../context.js';
import { makeConnection, makeLink, makeManualLink, makeManualUnlink, makeMessage, makeRecord } from '../fixtures.js';

export function linkCases(t: ConformanceContext): void {
  describe('record links', () => {
    it("replaces a message's automatic links when it is upserted again", async () => {
      const connection = makeConnection();
      const message = makeMessage(connection);
      const client = makeRecord('client');
      const company = makeRecord('company');
      await seed(t.store, connection, [message], [makeLink(message, client), makeLink(message, company, { rule: 'participant.domain' })]);
      const untouched = makeMessage(connection);
      await t.store.applySync(connection.id, { upserts: [untouched], deletes: [], links: [makeLink(untouched, company)] });
      await t.store.applySync(connection.id, {
        upserts: [message],
        deletes: [],
        links: [makeLink(message, client, { reason: 'matched again' })],
      });
      expect(linkSummary(await getMessage(t.store, connection.tenantId, message.id))).toEqual([
        { record: `client:${client.id}`, manual: false, suppressed: false, reason: 'matched again' },
      ]);
      // Only the upserted message's links are replaced.
      expect(linkSummary(await getMessage(t.store, connection.tenantId, untouched.id))).toHaveLength(1);
      await t.store.applySync(connection.id, { upserts: [message], deletes: [], links: [] });
      expect(linkSummary(await getMessage(t.store, connection.tenantId, message.id))).toEqual([]);
    });

    it('keeps one link per (message, record): the highest confidence of a batch wins', async () => {
      const connection = makeConnection();
      const message = makeMessage(connection);
      const client = makeRecord('client');
      await seed(
        t.store,
        connection,
        [message],
        [
          makeLink(message, client, { rule: 'participant.domain', confidence: 0.5, reason: 'domain' }),
          makeLink(message, client, { rule: 'participant.address', confidence: 0.9, reason: 'address' }),
        ],
      );
      expect(linkSummary(await getMessage(t.store, connection.tenantId, message.id))).toEqual([
        { record: `client:${client.id}`, manual: false, suppressed: false, reason: 'address' },
      ]);
    });

    it('keeps a manual link through re-upserts and re-matching', async () => {
      const connection = makeConnection();
      const message = makeMessage(connection);
      const project = makeRecord('project');
      await seed(t.store, connection, [message]);
      await t.store.saveManualLink(connection.tenantId, makeManualLink(message, project));
      await t.store.applySync(connection.id, { upserts: [message], deletes: [], links: [makeLink(message, project, { reason: 'reference PRJ-1' })] });
      expect(await t.store.addLinks(connection.tenantId, [makeLink(message, project, { reason: 'rematch' })])).toBe(0);
      expect(linkSummary(await getMessage(t.store, connection.tenantId, message.id))).toEqual([
        { record: `project:${project.id}`, manual: true, suppressed: false, reason: 'linked by a user' },
      ]);
      await t.store.applySync(connection.id, { upserts: [message], deletes: [], links: [] });
      expect(linkSummary(await getMessage(t.store, connection.tenantId, message.id))).toHaveLength(1);
    });

    it('keeps a manual unlink (suppressed) through re-upserts and re-matching, and hides the record', async () => {
      const connection = makeConnection();
      const message = makeMessage(connection);
      const client = makeRecord('client');
      await seed(t.store, connection, [message], [makeLink(message, client)]);
      const timeline = () => t.store.timeline({ tenantId: connection.tenantId, record: client, wholeThreads: true, limit: 10 });
      expect((await timeline()).threads).toHaveLength(1);
      await t.store.saveManualLink(connection.tenantId, makeManualUnlink(message, client));
      expect((await timeline()).threads).toEqual([]);
      await t.store.applySync(connection.id, { upserts: [message], deletes: [], links: [makeLink(message, client)] });
      expect(await t.store.addLinks(connection.tenantId, [makeLink(message, client)])).toBe(0);
      expect((await timeline()).threads).toEqual([]);
      expect(linkSummary(await getMessage(t.store, connection.tenantId, message.id))).toEqual([
        { record: `client:${client.id}`, manual: true, suppressed: true, reason: 'unlinked by a user' },
      ]);
    });

    it('replaces a manual decision with a later one for the same record', async () => {
      const connection = makeConnection();
      const message = makeMessage(connection);
      const project = makeRecord('project');
      await seed(t.store, connection, [message]);
      await t.store.saveManualLink(connection.tenantId, makeManualLink(message, project));
      await t.store.saveManualLink(connection.tenantId, makeManualUnlink(message, project));
      expect(linkSummary(await getMessage(t.store, connection.tenantId, message.id))).toEqual([
        { record: `project:${project.id}`, manual: true, suppressed: true, reason: 'unlinked by a user' },
      ]);
    });

    it('removeLink drops a manual decision so automatic rules apply again, and leaves automatic links alone', async () => {
      const connection = makeConnection();
      const message = makeMessage(connection);
      const client = makeRecord('client');
      const project = makeRecord('project');
      await seed(t.store, connection, [message], [makeLink(message, project)]);
      await t.store.saveManualLink(connection.tenantId, makeManualUnlink(message, client));
      expect(await t.store.removeLink(connection.tenantId, message.id, client)).toBe(true);
      expect(await t.store.removeLink(connection.tenantId, message.id, client)).toBe(false);
      expect(linkSummary(await getMessage(t.store, connection.tenantId, message.id)).map((link) => link.record)).toEqual([`project:${project.id}`]);
      expect(await t.store.addLinks(connection.tenantId, [makeLink(message, client)])).toBe(1);
      expect(await t.store.removeLink(connection.tenantId, message.id, project)).toBe(false);
      expect(await t.store.removeLink(connection.tenantId, 'msg_unknown', project)).toBe(false);
      expect(
        linkSummary(await getMessage(t.store, connection.tenantId, message.id))
          .map((link) => link.record)
          .sort(),
      ).toEqual([`client:${client.id}`, `project:${project.id}`].sort());
    });

    it('addLinks inserts automatic links for stored messages only and counts what it inserted', async () => {
      const connection = makeConnection();
      const first = makeMessage(connection);
      const second = makeMessage(connection);
      const client = makeRecord('client');
      await seed(t.store, connection, [first, second], [makeLink(first, client)]);
      const inserted = await t.store.addLinks(connection.tenantId, [
        makeLink(first, client),
        makeLink(second, client),
        makeLink(second, client, { reason: 'duplicate in one call' }),
        makeLink('msg_unknown', client),
      ]);
      expect(inserted).toBe(1);
      const page = await t.store.timeline({ tenantId: connection.tenantId, record: client, wholeThreads: false, limit: 10 });
      expect(page.threads.flatMap((thread) => thread.messages.map((message) => message.id)).sort()).toEqual([first.id, second.id].sort());
    });

    it('rejects manual entries in addLinks and automatic ones in saveManualLink; unknown messages are NOT_FOUND', async () => {
      const connection = makeConnection();
      const message = makeMessage(connection);
      const client = makeRecord('client');
      await seed(t.store, connection, [message]);
      await expectNothingWritten(t.raw, async () => {
        await expectError(t.store.addLinks(connection.tenantId, [makeLink(message, makeRecord()), makeManualLink(message, client)]), 'INVALID_INPUT');
        await expectError(t.store.saveManualLink(connection.tenantId, makeLink(message, client)), 'INVALID_INPUT');
        await expectError(t.store.saveManualLink(connection.tenantId, makeManualLink('msg_unknown', client)), 'NOT_FOUND');
        await expectError(t.store.saveManualLink(connection.tenantId, { ...makeManualLink(message, client), confidence: -1 }), 'INVALID_INPUT');
      });
    });
  });
}
