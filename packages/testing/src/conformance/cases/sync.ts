// applySync: atomicity, cursor compare-and-set, idempotent upserts, deletes, the connection patch.
import { describe, expect, it } from 'vitest';
import { getMessage, type MessageMeta, type SyncBatch } from '@threadlink/core/store';
import { byBinary, expectError, expectNothingWritten, linkSummary, seed, withoutLinks, type ConformanceContext } from '../context.js';
import { FIXTURE_EPOCH, makeConnection, makeLink, makeManualLink, makeMessage, makeRecord } from '../fixtures.js';
import { rowCounts, rowsMentioning } from '../raw.js';

export function syncCases(t: ConformanceContext): void {
  describe('applySync', () => {
    it('inserts messages with their links and commits the cursor in the same write', async () => {
      const connection = makeConnection();
      await t.store.saveConnection(connection);
      const first = makeMessage(connection, { receivedAt: 1_000 });
      const second = makeMessage(connection, { receivedAt: 2_000 });
      const client = makeRecord('client');
      const result = await t.store.applySync(connection.id, {
        upserts: [first, second],
        deletes: [],
        links: [makeLink(first, client)],
        cursor: 'history-100',
        expectedCursor: null,
      });
      expect([...result.inserted].sort(byBinary)).toEqual([first.id, second.id].sort(byBinary));
      expect(result.updated).toEqual([]);
      expect(result.deleted).toEqual([]);
      expect((await t.store.getConnection(connection.id))?.cursor).toBe('history-100');
      const stored = await getMessage(t.store, connection.tenantId, first.id);
      expect(withoutLinks(stored)).toEqual(first);
      expect(stored?.links).toEqual([makeLink(first, client)]);
      expect(await t.store.getMessageByProviderId(connection.id, second.providerMessageId)).toMatchObject({ id: second.id, links: [] });
      expect(await t.store.listProviderMessageIds(connection.id)).toEqual([first.providerMessageId, second.providerMessageId].sort(byBinary));
    });

    it('leaves the cursor alone when the batch has none, and clears it on null', async () => {
      const connection = makeConnection();
      await seed(t.store, connection, [], [], 'history-1');
      await t.store.applySync(connection.id, { upserts: [makeMessage(connection)], deletes: [], links: [] });
      expect((await t.store.getConnection(connection.id))?.cursor).toBe('history-1');
      await t.store.applySync(connection.id, { upserts: [], deletes: [], links: [], cursor: null });
      expect((await t.store.getConnection(connection.id))?.cursor).toBeNull();
    });

    const invalidBatches: Array<[string, (message: MessageMeta, fresh: MessageMeta) => Partial<SyncBatch>, 'INVALID_INPUT' | 'CONTENT_FORBIDDEN']> = [
      ['a message with a negative date', (_message, fresh) => ({ upserts: [{ ...fresh, receivedAt: -5 }] }), 'INVALID_INPUT'],
      ['a message with an unknown key', (_message, fresh) => ({ upserts: [{ ...fresh, priority: 'high' } as MessageMeta] }), 'INVALID_INPUT'],
      ['a message carrying a body', (_message, fresh) => ({ upserts: [{ ...fresh, body: 'Hello' } as MessageMeta] }), 'CONTENT_FORBIDDEN'],
      ['a link with confidence above 1', (message) => ({ links: [makeLink(message, makeRecord(), { confidence: 2 })] }), 'INVALID_INPUT'],
      ['a link to a message outside the batch', () => ({ links: [makeLink('msg_not_in_batch', makeRecord())] }), 'INVALID_INPUT'],
      ['a manual link (those go through saveManualLink)', (message) => ({ links: [makeManualLink(message, makeRecord())] }), 'INVALID_INPUT'],
      ['a connection patch with an unknown status', () => ({ connection: { status: 'paused' as never } }), 'INVALID_INPUT'],
      ['a connection patch moving the tenant', () => ({ connection: { tenantId: 'tenant_other' } as never }), 'INVALID_INPUT'],
      ['an empty cursor', () => ({ cursor: '' }), 'INVALID_INPUT'],
    ];

    it.each(invalidBatches)('changes nothing when the batch holds %s', async (_label, spoil, code) => {
      const connection = makeConnection();
      const original = makeMessage(connection, { subject: 'Original' });
      const client = makeRecord('client');
      await seed(t.store, connection, [original], [makeLink(original, client)], 'history-1');
      const fresh = makeMessage(connection, { subject: 'Fresh' });
      const valid: SyncBatch = {
        upserts: [{ ...original, subject: 'Changed' }, fresh],
        deletes: [],
        links: [makeLink(original, makeRecord('project')), makeLink(fresh, client)],
        cursor: 'history-2',
        expectedCursor: 'history-1',
        connection: { status: 'backfilling' },
      };
      const spoiled = spoil(original, fresh);
      // The invalid part comes last, after valid rows a careless store would already have written.
      const batch: SyncBatch = {
        ...valid,
        ...spoiled,
        upserts: [...valid.upserts, ...(spoiled.upserts ?? [])],
        links: [...valid.links, ...(spoiled.links ?? [])],
      };
      await expectNothingWritten(t.raw, async () => {
        await expectError(t.store.applySync(connection.id, batch), code);
      });
      const stored = await getMessage(t.store, connection.tenantId, original.id);
      expect(stored?.subject).toBe('Original');
      expect(linkSummary(stored).map((link) => link.record)).toEqual([`client:${client.id}`]);
      expect(await getMessage(t.store, connection.tenantId, fresh.id)).toBeNull();
      expect(await t.store.getConnection(connection.id)).toMatchObject({ cursor: 'history-1', status: 'live' });
    });

    it("rejects a message whose tenant or connection is not the batch's connection", async () => {
      const connection = makeConnection();
      const other = makeConnection();
      await seed(t.store, connection);
      await seed(t.store, other);
      await expectNothingWritten(t.raw, async () => {
        await expectError(t.store.applySync(connection.id, { upserts: [makeMessage(other)], deletes: [], links: [] }), 'INVALID_INPUT');
        await expectError(
          t.store.applySync(connection.id, { upserts: [makeMessage(connection, { tenantId: other.tenantId })], deletes: [], links: [] }),
          'INVALID_INPUT',
        );
      });
    });

    it('answers CONNECTION_NOT_FOUND for an unknown connection', async () => {
      const connection = makeConnection();
      await expectError(t.store.applySync(connection.id, { upserts: [makeMessage(connection)], deletes: [], links: [] }), 'CONNECTION_NOT_FOUND');
    });

    it('refuses a stale expectedCursor with CURSOR_CONFLICT and writes nothing', async () => {
      const connection = makeConnection();
      await seed(t.store, connection, [makeMessage(connection)], [], 'history-5');
      const late = makeMessage(connection);
      await expectNothingWritten(t.raw, async () => {
        await expectError(
          t.store.applySync(connection.id, { upserts: [late], deletes: [], links: [], cursor: 'history-9', expectedCursor: 'history-4' }),
          'CURSOR_CONFLICT',
        );
        await expectError(
          t.store.applySync(connection.id, { upserts: [late], deletes: [], links: [], cursor: 'history-9', expectedCursor: null }),
          'CURSOR_CONFLICT',
        );
      });
      expect(await getMessage(t.store, connection.tenantId, late.id)).toBeNull();
      const result = await t.store.applySync(connection.id, { upserts: [late], deletes: [], links: [], cursor: 'history-9', expectedCursor: 'history-5' });
      expect(result.inserted).toEqual([late.id]);
      expect((await t.store.getConnection(connection.id))?.cursor).toBe('history-9');
    });

    it('lets exactly one of two racing writers with the same expectedCursor commit', async () => {
      const connection = makeConnection();
      await seed(t.store, connection, [], [], 'history-1');
      const left = makeMessage(connection);
      const right = makeMessage(connection);
      const outcomes = await Promise.allSettled([
        t.store.applySync(connection.id, { upserts: [left], deletes: [], links: [], cursor: 'history-left', expectedCursor: 'history-1' }),
        t.store.applySync(connection.id, { upserts: [right], deletes: [], links: [], cursor: 'history-right', expectedCursor: 'history-1' }),
      ]);
      const won = outcomes.map((outcome) => outcome.status === 'fulfilled');
      expect(won.filter(Boolean)).toHaveLength(1);
      const lost = outcomes.find((outcome) => outcome.status === 'rejected');
      expect((lost as PromiseRejectedResult).reason).toMatchObject({ name: 'ThreadlinkError', code: 'CURSOR_CONFLICT' });
      const winner = won[0] ? left : right;
      const loser = won[0] ? right : left;
      expect((await t.store.getConnection(connection.id))?.cursor).toBe(won[0] ? 'history-left' : 'history-right');
      expect(await getMessage(t.store, connection.tenantId, winner.id)).not.toBeNull();
      expect(await getMessage(t.store, connection.tenantId, loser.id)).toBeNull();
    });

    it('lists each stored message of a connection with its current label ids, by provider id, and nothing of another connection', async () => {
      const connection = makeConnection();
      const other = makeConnection({ tenantId: connection.tenantId });
      const spam = makeMessage(connection, { providerMessageId: 'pm-b', labels: ['SPAM', 'SENT'], folder: 'spam' });
      const archived = makeMessage(connection, { providerMessageId: 'pm-a', labels: [] });
      await seed(t.store, connection, [spam, archived]);
      await seed(t.store, other, [makeMessage(other, { labels: ['INBOX'] })]);
      await t.store.applySync(connection.id, { upserts: [{ ...archived, labels: ['Label_7', 'INBOX'] }], deletes: [], links: [] });
      expect(await t.store.listProviderMessageLabels(connection.id)).toEqual([
        { providerMessageId: 'pm-a', labels: ['Label_7', 'INBOX'] },
        { providerMessageId: 'pm-b', labels: ['SPAM', 'SENT'] },
      ]);
      await t.store.applySync(connection.id, { upserts: [], deletes: [spam.providerMessageId], links: [] });
      expect(await t.store.listProviderMessageLabels(connection.id)).toEqual([{ providerMessageId: 'pm-a', labels: ['Label_7', 'INBOX'] }]);
      expect(await t.store.listProviderMessageLabels('conn-unknown')).toEqual([]);
    });

    it('upserts idempotently by (connection, provider message id): one row, fields updated', async () => {
      const connection = makeConnection();
      const message = makeMessage(connection, { subject: 'Draft proposal', labels: ['INBOX', 'UNREAD'] });
      await seed(t.store, connection, [message]);
      const countsAfterFirst = rowCounts(await t.raw.dump());
      const again = await t.store.applySync(connection.id, { upserts: [message], deletes: [], links: [] });
      expect(again).toEqual({ inserted: [], updated: [message.id], deleted: [] });
      const changed = { ...message, subject: 'Signed proposal', labels: ['INBOX'], folder: 'archive' as const };
      const result = await t.store.applySync(connection.id, { upserts: [changed], deletes: [], links: [] });
      expect(result).toEqual({ inserted: [], updated: [message.id], deleted: [] });
      expect(await t.store.listProviderMessageIds(connection.id)).toEqual([message.providerMessageId]);
      expect(withoutLinks(await getMessage(t.store, connection.tenantId, message.id))).toEqual(changed);
      expect(rowCounts(await t.raw.dump())).toEqual(countsAfterFirst);
    });

    it('keeps stored In-Reply-To and References when an upsert of the message shows neither, and takes them when it does', async () => {
      const connection = makeConnection();
      const reply = makeMessage(connection, { inReplyTo: '<original@client.example>', references: ['<root@client.example>', '<original@client.example>'] });
      await seed(t.store, connection, [reply]);
      // The same message synced back from a copy without headers (Graph's Sent Items copy).
      const bare = { ...reply, inReplyTo: null, references: [], subject: 'RE: renamed' };
      expect(await t.store.applySync(connection.id, { upserts: [bare], deletes: [], links: [] })).toEqual({ inserted: [], updated: [reply.id], deleted: [] });
      expect(withoutLinks(await getMessage(t.store, connection.tenantId, reply.id))).toEqual({
        ...bare,
        inReplyTo: reply.inReplyTo,
        references: reply.references,
      });
      // Headers the copy does show win.
      const shown = { ...reply, inReplyTo: '<other@client.example>', references: ['<other@client.example>'] };
      await t.store.applySync(connection.id, { upserts: [shown], deletes: [], links: [] });
      expect(withoutLinks(await getMessage(t.store, connection.tenantId, reply.id))).toEqual(shown);
    });

    it('keeps the stored id when a provider message comes back under another id', async () => {
      const connection = makeConnection();
      const message = makeMessage(connection);
      await seed(t.store, connection, [message]);
      const client = makeRecord('client');
      const renamed = { ...message, id: `${message.id}_other`, subject: 'Renamed' };
      const result = await t.store.applySync(connection.id, { upserts: [renamed], deletes: [], links: [makeLink(renamed, client)] });
      expect(result).toEqual({ inserted: [], updated: [message.id], deleted: [] });
      expect(await getMessage(t.store, connection.tenantId, renamed.id)).toBeNull();
      const stored = await getMessage(t.store, connection.tenantId, message.id);
      expect(stored?.subject).toBe('Renamed');
      expect(stored?.links).toEqual([makeLink(message, client)]);
    });

    it('keeps the last entry when one batch lists a provider message twice', async () => {
      const connection = makeConnection();
      await seed(t.store, connection);
      const message = makeMessage(connection, { subject: 'First' });
      const result = await t.store.applySync(connection.id, {
        upserts: [message, { ...message, subject: 'Second' }],
        deletes: [],
        links: [],
      });
      expect(result).toEqual({ inserted: [message.id], updated: [], deleted: [] });
      expect(await t.store.listProviderMessageIds(connection.id)).toEqual([message.providerMessageId]);
      expect((await getMessage(t.store, connection.tenantId, message.id))?.subject).toBe('Second');
    });

    it('deletes messages with every link (manual ones too) and ignores unknown ids', async () => {
      const connection = makeConnection();
      const doomed = makeMessage(connection);
      const kept = makeMessage(connection);
      const client = makeRecord('client');
      const project = makeRecord('project');
      await seed(t.store, connection, [doomed, kept], [makeLink(doomed, client), makeLink(kept, client)]);
      await t.store.saveManualLink(connection.tenantId, makeManualLink(doomed, project));
      const result = await t.store.applySync(connection.id, { upserts: [], deletes: [doomed.providerMessageId, 'pm_never_seen'], links: [] });
      expect(result).toEqual({ inserted: [], updated: [], deleted: [doomed.id] });
      expect(await getMessage(t.store, connection.tenantId, doomed.id)).toBeNull();
      expect(await t.store.getMessageByProviderId(connection.id, doomed.providerMessageId)).toBeNull();
      expect(await t.store.listProviderMessageIds(connection.id)).toEqual([kept.providerMessageId]);
      expect(rowsMentioning(await t.raw.dump(), [doomed.id, doomed.providerMessageId])).toEqual([]);
      expect(linkSummary(await getMessage(t.store, connection.tenantId, kept.id))).toHaveLength(1);
      const timeline = await t.store.timeline({ tenantId: connection.tenantId, record: project, wholeThreads: true, limit: 10 });
      expect(timeline.threads).toEqual([]);
    });

    it('applies deletes after upserts: a message in both ends up deleted', async () => {
      const connection = makeConnection();
      const stored = makeMessage(connection);
      await seed(t.store, connection, [stored]);
      const newcomer = makeMessage(connection);
      const result = await t.store.applySync(connection.id, {
        upserts: [stored, newcomer],
        deletes: [stored.providerMessageId, newcomer.providerMessageId],
        links: [],
      });
      expect(result).toEqual({ inserted: [], updated: [], deleted: [stored.id] });
      expect(await t.store.listProviderMessageIds(connection.id)).toEqual([]);
    });

    it('applies the connection patch in the same write as the rows', async () => {
      const connection = makeConnection({ status: 'backfilling' });
      await seed(t.store, connection);
      const backfill = { state: 'running' as const, done: 1, estimatedTotal: 10, resume: 'page-2', startedAt: 5_000, finishedAt: null, rate: 2.5 };
      const message = makeMessage(connection);
      await t.store.applySync(connection.id, {
        upserts: [message],
        deletes: [],
        links: [],
        cursor: 'history-3',
        connection: { backfill, updatedAt: 6_000, cursor: 'ignored-because-cursor-wins' },
      });
      expect(await t.store.getConnection(connection.id)).toEqual({ ...connection, backfill, updatedAt: 6_000, cursor: 'history-3' });
      await t.store.applySync(connection.id, { upserts: [], deletes: [], links: [], connection: { status: 'live' } });
      expect((await t.store.getConnection(connection.id))?.status).toBe('live');
    });

    it('merges connection.health field by field into the stored health, in the same write', async () => {
      const connection = makeConnection();
      await seed(t.store, connection);
      // Written meanwhile by someone else (the webhook): the batch below must not overwrite it.
      await t.store.patchConnection(connection.id, { health: { lastPushAt: FIXTURE_EPOCH + 7 } });
      await t.store.applySync(connection.id, {
        upserts: [makeMessage(connection)],
        deletes: [],
        links: [],
        cursor: 'history-4',
        connection: { health: { lastSyncAt: FIXTURE_EPOCH + 8, consecutiveErrors: 0, newestChangeAt: FIXTURE_EPOCH + 6 } },
      });
      expect((await t.store.getConnection(connection.id))?.health).toEqual({
        ...connection.health,
        lastPushAt: FIXTURE_EPOCH + 7,
        lastSyncAt: FIXTURE_EPOCH + 8,
        newestChangeAt: FIXTURE_EPOCH + 6,
      });
      await expectNothingWritten(t.raw, async () => {
        await expectError(
          t.store.applySync(connection.id, { upserts: [makeMessage(connection)], deletes: [], links: [], connection: { health: { consecutiveErrors: -1 } } }),
          'INVALID_INPUT',
        );
      });
    });

    it('is not changed by callers mutating what they passed in or got back', async () => {
      const connection = makeConnection();
      const message = makeMessage(connection, { to: [{ address: 'ana@acme.example' }] });
      const client = makeRecord('client');
      const link = makeLink(message, client);
      await seed(t.store, connection, [message], [link]);
      message.subject = 'mutated';
      message.to.push({ address: 'intruder@evil.example' });
      link.reason = 'mutated';
      connection.status = 'disconnected';
      const read = await getMessage(t.store, connection.tenantId, message.id);
      if (!read) throw new Error('message missing');
      read.subject = 'mutated again';
      read.to.length = 0;
      read.links.length = 0;
      const readConnection = await t.store.getConnection(connection.id);
      if (readConnection) readConnection.scopes.push('mutated');
      const fresh = await getMessage(t.store, connection.tenantId, message.id);
      expect(fresh?.subject).toBe('Quarterly review');
      expect(fresh?.to).toEqual([{ address: 'ana@acme.example' }]);
      expect(fresh?.links.map((stored) => stored.reason)).toEqual(['sender is a contact of the record']);
      expect(await t.store.getConnection(connection.id)).toMatchObject({ status: 'live', scopes: ['https://www.googleapis.com/auth/gmail.metadata'] });
    });

    it('keeps each attachment’s id and inline flag as given, and rows without them as they were', async () => {
      const connection = makeConnection();
      await t.store.saveConnection(connection);
      const withIds = makeMessage(connection, {
        attachments: [
          { id: '1', name: 'proposal-signed.pdf', mimeType: 'application/pdf', size: 48_213, inline: false },
          { id: 'AAMkADk0=', name: 'logo.png', mimeType: 'image/png', size: 1_024, inline: true },
        ],
        hasAttachments: true,
      });
      const legacy = makeMessage(connection, { attachments: [{ name: 'old.pdf', mimeType: null, size: null }], hasAttachments: true });
      await t.store.applySync(connection.id, { upserts: [withIds, legacy], deletes: [], links: [] });
      expect((await getMessage(t.store, connection.tenantId, withIds.id))?.attachments).toEqual(withIds.attachments);
      expect((await getMessage(t.store, connection.tenantId, legacy.id))?.attachments).toEqual([{ name: 'old.pdf', mimeType: null, size: null }]);
    });
  });
}
