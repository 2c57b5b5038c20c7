// users.watch / users.stop and users.history.list: record types, filters,
// paging, non-contiguous ids, and the 404 that forces a full sync.
import type { gmail_v1 } from '@googleapis/gmail';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGmailEmulator, type DeliveredMessages, type GmailEmulator } from '../src/gmail/index.js';
import { connect, failure, GOOGLE } from './gmail-helpers.js';

let emulator: GmailEmulator;
let gmail: gmail_v1.Gmail;
const ANA = 'ana@acme.example';

beforeAll(async () => {
  // watch (100 units) + stop (50) in quick succession would exceed the real 250 units/s; quota has its own tests.
  emulator = await startGmailEmulator({ quotaUnitsPerSecond: 100_000 });
  emulator.addMailbox({ email: ANA });
  ({ gmail } = await connect(emulator, ANA, [`${GOOGLE}gmail.metadata`]));
});
afterAll(() => emulator.close());

async function historyId(): Promise<string> {
  return (await gmail.users.getProfile({ userId: 'me' })).data.historyId ?? '';
}

describe('watch and stop', () => {
  it('watch returns the current historyId and a 7-day expiration; stop ends it', async () => {
    const before = await historyId();
    const { data, status } = await gmail.users.watch({
      userId: 'me',
      requestBody: { topicName: emulator.providerOptions.pubsubTopic, labelIds: ['INBOX'], labelFilterBehavior: 'include' },
    });
    expect(status).toBe(200);
    expect(data.historyId).toBe(before);
    const expiration = Number(data.expiration);
    expect(expiration).toBeGreaterThan(emulator.now() + 7 * 86_400_000 - 5_000);
    expect(expiration).toBeLessThanOrEqual(emulator.now() + 7 * 86_400_000);
    expect(emulator.watchOf(ANA)).toMatchObject({ expiration, topicName: emulator.providerOptions.pubsubTopic, labelIds: ['INBOX'] });

    const stopped = await gmail.users.stop({ userId: 'me' });
    expect(stopped.status).toBe(204);
    expect(emulator.watchOf(ANA)).toBeNull();
  });

  it('refuses a malformed topic, a topic of another project and an unknown topic', async () => {
    const malformed = await failure(gmail.users.watch({ userId: 'me', requestBody: { topicName: 'gmail' } }));
    expect(malformed.status).toBe(400);
    const foreign = await failure(gmail.users.watch({ userId: 'me', requestBody: { topicName: 'projects/other/topics/gmail' } }));
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.message).toContain('User not authorized to perform this action');
    const unknown = await failure(gmail.users.watch({ userId: 'me', requestBody: { topicName: 'projects/threadlink-emulator/topics/nope' } }));
    expect(unknown.status).toBe(404);
  });

  it('a watch lapses after its expiration', async () => {
    await gmail.users.watch({ userId: 'me', requestBody: { topicName: emulator.providerOptions.pubsubTopic } });
    emulator.advanceClock(7 * 86_400_000 + 1);
    try {
      expect(emulator.watchOf(ANA)).toBeNull();
    } finally {
      emulator.advanceClock(-(7 * 86_400_000 + 1));
    }
  });
});

describe('history.list', () => {
  it('reports messagesAdded, labelsAdded, labelsRemoved and messagesDeleted after startHistoryId', async () => {
    const start = await historyId();
    const first = await emulator.deliver({ from: 'client@bigco.example', to: ANA, subject: 'One', text: 'one' });
    emulator.modifyLabels(ANA, first.id, ['STARRED'], ['UNREAD']);
    emulator.deleteMessage(ANA, first.id);

    const { data } = await gmail.users.history.list({ userId: 'me', startHistoryId: start });
    const records = data.history ?? [];
    expect(records).toHaveLength(4);
    expect(records[0]).toEqual({
      id: first.historyId,
      messages: [{ id: first.id, threadId: first.threadId }],
      messagesAdded: [{ message: { id: first.id, threadId: first.threadId, labelIds: ['UNREAD', 'CATEGORY_PERSONAL', 'INBOX'] } }],
    });
    expect(records[1]?.labelsAdded).toEqual([
      { message: { id: first.id, threadId: first.threadId, labelIds: ['UNREAD', 'CATEGORY_PERSONAL', 'INBOX', 'STARRED'] }, labelIds: ['STARRED'] },
    ]);
    expect(records[2]?.labelsRemoved).toEqual([
      { message: { id: first.id, threadId: first.threadId, labelIds: ['CATEGORY_PERSONAL', 'INBOX', 'STARRED'] }, labelIds: ['UNREAD'] },
    ]);
    expect(records[3]?.messagesDeleted).toEqual([{ message: { id: first.id, threadId: first.threadId, labelIds: ['CATEGORY_PERSONAL', 'INBOX', 'STARRED'] } }]);
    const ids = records.map((record) => Number(record.id));
    expect(ids).toEqual([...ids].sort((left, right) => left - right));
    expect(ids[0]).toBeGreaterThan(Number(start));
    expect(data.historyId).toBe(await historyId());
    expect(data.nextPageToken).toBeUndefined();
  });

  it('answers with only historyId when nothing changed', async () => {
    const now = await historyId();
    const { data } = await gmail.users.history.list({ userId: 'me', startHistoryId: now });
    expect(data).toEqual({ historyId: now });
  });

  it('filters by historyTypes and labelId', async () => {
    const start = await historyId();
    const inbound = await emulator.deliver({ from: 'client@bigco.example', to: ANA, subject: 'Two', text: 'two' });
    const outbound = await emulator.deliver({ from: ANA, to: 'client@bigco.example', subject: 'Three', text: 'three' });
    emulator.modifyLabels(ANA, inbound.id, [], ['UNREAD']);

    const added = await gmail.users.history.list({ userId: 'me', startHistoryId: start, historyTypes: ['messageAdded'] });
    expect(added.data.history?.map((record) => record.messagesAdded?.[0]?.message?.id)).toEqual([inbound.id, outbound.id]);
    expect(added.data.history?.every((record) => record.labelsRemoved === undefined)).toBe(true);

    const sent = await gmail.users.history.list({ userId: 'me', startHistoryId: start, labelId: 'SENT' });
    expect(sent.data.history?.map((record) => record.messages?.[0]?.id)).toEqual([outbound.id]);
  });

  it('pages with maxResults; ids increase but are not contiguous', async () => {
    const start = await historyId();
    const delivered: DeliveredMessages[] = [];
    for (let index = 0; index < 5; index++)
      delivered.push(await emulator.deliver({ from: 'client@bigco.example', to: ANA, subject: `Page ${index}`, text: 'x' }));
    const pages: gmail_v1.Schema$History[][] = [];
    let pageToken: string | undefined;
    do {
      const { data } = await gmail.users.history.list({ userId: 'me', startHistoryId: start, maxResults: 2, ...(pageToken ? { pageToken } : {}) });
      pages.push(data.history ?? []);
      pageToken = data.nextPageToken ?? undefined;
    } while (pageToken);
    expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
    expect(pages.flat().map((record) => record.messagesAdded?.[0]?.message?.id)).toEqual(delivered.map((message) => message.id));
    const gaps = delivered.slice(1).map((message, index) => Number(message.historyId) - Number(delivered[index]?.historyId));
    expect(gaps.every((gap) => gap >= 1)).toBe(true);
  });

  it('answers 404 for a too-old startHistoryId, and after expireHistory for every id issued so far', async () => {
    const ancient = await failure(gmail.users.history.list({ userId: 'me', startHistoryId: '1' }, { retry: false }));
    expect(ancient.status).toBe(404);
    expect(ancient.body.error).toMatchObject({ code: 404, status: 'NOT_FOUND', errors: [{ reason: 'notFound' }] });

    const issued = await historyId();
    emulator.expireHistory(ANA);
    const expired = await failure(gmail.users.history.list({ userId: 'me', startHistoryId: issued }, { retry: false }));
    expect(expired.status).toBe(404);

    // A full sync takes a fresh id from getProfile, and that one works again.
    const fresh = await historyId();
    expect(Number(fresh)).toBeGreaterThan(Number(issued));
    const message = await emulator.deliver({ from: 'client@bigco.example', to: ANA, subject: 'After resync', text: 'x' });
    const { data } = await gmail.users.history.list({ userId: 'me', startHistoryId: fresh });
    expect(data.history?.map((record) => record.messagesAdded?.[0]?.message?.id)).toEqual([message.id]);
  });

  it('requires a numeric startHistoryId', async () => {
    const missing = await failure(gmail.users.history.list({ userId: 'me', startHistoryId: 'abc' }));
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toBe('Missing/invalid parameter: startHistoryId');
  });
});
