// Core's store helpers as a third backend would call them: the stores in this repository pass
// runStoreConformance through them, and these cases pin what a new store author gets for free.
import type { MetadataStore, StoredMessage } from '@threadlink/core';
import { assignStoredIds, getMessage, listThread, parseSyncBatch, syncResult, validateSyncBatch, type StoredIdLookup } from '@threadlink/core/store';
import { makeConnection, makeLink, makeMessage, makeRecord } from '@threadlink/testing';
import { describe, expect, it } from 'vitest';

const nothingStored: StoredIdLookup = { storedIdOf: () => undefined, isTaken: () => false };

describe("core's store helpers", () => {
  it('keeps the stored id of a known provider message and moves its batch links to that id', () => {
    const connection = makeConnection();
    const fresh = makeMessage(connection, { providerMessageId: 'pm-1' });
    const client = makeRecord('client');
    const validated = validateSyncBatch(connection, { upserts: [fresh], deletes: [], links: [makeLink(fresh, client)] });
    const plan = assignStoredIds(validated, {
      storedIdOf: (providerMessageId) => (providerMessageId === 'pm-1' ? 'msg_stored' : undefined),
      isTaken: () => true,
    });
    expect(plan.upserts).toEqual([{ message: { ...fresh, id: 'msg_stored' }, exists: true }]);
    expect(plan.links.map((link) => link.messageId)).toEqual(['msg_stored']);
  });

  it('keeps the last entry of a provider message and the highest confidence of a (message, record) pair', () => {
    const connection = makeConnection();
    const first = makeMessage(connection, { providerMessageId: 'pm-1', subject: 'First' });
    const last = { ...first, subject: 'Last' };
    const client = makeRecord('client');
    const plan = assignStoredIds(
      validateSyncBatch(connection, {
        upserts: [first, last],
        deletes: ['pm-9', 'pm-9'],
        links: [makeLink(last, client, { confidence: 0.5 }), makeLink(last, client, { confidence: 0.9 })],
      }),
      nothingStored,
    );
    expect(plan.upserts.map(({ message }) => message.subject)).toEqual(['Last']);
    expect(plan.links.map((link) => link.confidence)).toEqual([0.9]);
    expect(plan.deletes).toEqual(['pm-9']);
  });

  it("refuses another connection's message, a link outside the batch, a manual link and a taken id", () => {
    const connection = makeConnection();
    const message = makeMessage(connection);
    const stranger = makeMessage(makeConnection({ tenantId: connection.tenantId }));
    const client = makeRecord('client');
    const refusal = (run: () => unknown) => {
      try {
        run();
      } catch (error) {
        return (error as { code?: string }).code;
      }
      return 'accepted';
    };
    expect(refusal(() => validateSyncBatch(connection, { upserts: [stranger], deletes: [], links: [] }))).toBe('INVALID_INPUT');
    expect(refusal(() => validateSyncBatch(connection, { upserts: [message], deletes: [], links: [makeLink(stranger, client)] }))).toBe('INVALID_INPUT');
    expect(refusal(() => validateSyncBatch(connection, { upserts: [message], deletes: [], links: [{ ...makeLink(message, client), manual: true }] }))).toBe(
      'INVALID_INPUT',
    );
    expect(refusal(() => validateSyncBatch(connection, { upserts: [{ ...message, snippet: 'hello' } as never], deletes: [], links: [] }))).toBe(
      'CONTENT_FORBIDDEN',
    );
    expect(refusal(() => validateSyncBatch({ ...connection, cursor: 'h2' }, { upserts: [], deletes: [], links: [], expectedCursor: 'h1' }))).toBe(
      'CURSOR_CONFLICT',
    );
    const valid = validateSyncBatch(connection, { upserts: [message], deletes: [], links: [] });
    expect(refusal(() => assignStoredIds(valid, { storedIdOf: () => undefined, isTaken: (id) => id === message.id }))).toBe('INVALID_INPUT');
  });

  it('checks a batch parsed ahead of the connection lock against the connection, with its patch and cursor', () => {
    const connection = makeConnection({ cursor: 'h1' });
    const parsed = parseSyncBatch({
      upserts: [],
      deletes: [],
      links: [],
      cursor: 'h2',
      expectedCursor: 'h1',
      connection: { health: { consecutiveErrors: 0 } },
    });
    expect(validateSyncBatch(connection, parsed).nextConnection?.cursor).toBe('h2');
    expect(() => validateSyncBatch({ ...connection, cursor: 'h0' }, parsed)).toThrow(expect.objectContaining({ code: 'CURSOR_CONFLICT' }));
  });

  it('reports a message inserted and deleted by one batch in no list, and an updated then deleted one as deleted', () => {
    const connection = makeConnection();
    const upserts = [
      { message: makeMessage(connection, { id: 'msg_new' }), exists: false },
      { message: makeMessage(connection, { id: 'msg_old' }), exists: true },
      { message: makeMessage(connection, { id: 'msg_kept' }), exists: true },
    ];
    expect(syncResult(upserts, ['msg_new', 'msg_old', 'msg_gone'])).toEqual({ inserted: [], updated: ['msg_kept'], deleted: ['msg_old', 'msg_gone'] });
  });

  it('derives one message and one thread from the batch reads', async () => {
    const stored = { id: 'msg_1', threadId: 'thr_1', links: [] } as unknown as StoredMessage;
    const calls: unknown[][] = [];
    const store: Pick<MetadataStore, 'getMessages' | 'listThreads'> = {
      getMessages: async (...args) => {
        calls.push(['getMessages', ...args]);
        return args[1].includes('msg_1') ? [stored] : [];
      },
      listThreads: async (...args) => {
        calls.push(['listThreads', ...args]);
        return [stored];
      },
    };
    expect(await getMessage(store, 't1', 'msg_1')).toBe(stored);
    expect(await getMessage(store, 't1', 'msg_unknown')).toBeNull();
    expect(await listThread(store, 't1', 'thr_1', ['conn_1'])).toEqual([stored]);
    expect(calls).toEqual([
      ['getMessages', 't1', ['msg_1']],
      ['getMessages', 't1', ['msg_unknown']],
      ['listThreads', 't1', ['thr_1'], ['conn_1']],
    ]);
  });
});
