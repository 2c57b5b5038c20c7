import type { ProviderMessage } from '@threadlink/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WELL_KNOWN_FOLDERS } from '../src/metadata.js';
import { pullAll, startHarness, type Connected, type Harness } from './support.js';

const DAY = 24 * 3_600_000;
const INBOX = 4_000;
const SENT = 1_000;

describe('back-fill: 5,000 messages, folders paged newest first, resumable, ends with a cursor', () => {
  let harness: Harness;
  let connected: Connected;
  const start = Date.now() - 400 * DAY;

  beforeAll(async () => {
    harness = await startHarness({ provider: { mode: 'metadata' } });
    harness.ms.addMailbox({ email: 'ana@contoso.com' });
    // One copy per message, spread over 400 days (one every ~2 hours).
    for (let index = 0; index < INBOX + SENT; index += 1) {
      const outbound = index % 5 === 4;
      await harness.ms.deliver({
        from: outbound ? 'ana@contoso.com' : `client${index % 50}@acme.com`,
        to: outbound ? `client${index % 50}@acme.com` : 'ana@contoso.com',
        subject: `history ${index}`,
        text: 'old mail',
        date: new Date(start + index * 2 * 3_600_000),
        mailbox: 'ana@contoso.com',
      });
    }
    connected = await harness.connect('ana@contoso.com');
  }, 120_000);
  afterAll(async () => harness?.close());

  it('lists every message once, each folder newest first, with an estimated total and the delta cursor on the last page', async () => {
    const pages: Array<{ messages: ProviderMessage[]; estimatedTotal?: number; cursor?: string; next: string | null }> = [];
    let resume: string | null = null;
    const logged = harness.ms.log.entries.length;
    do {
      const page = await harness.provider.fullSync(connected.session, resume, { pageSize: 250 });
      if (resume === null) {
        // The estimate comes with the folder listing ($select totalItemCount): the only single-folder
        // reads are the well-known folders' ids, not a GET per synced folder for its count.
        const reads = harness.ms.log.entries.slice(logged).filter((entry) => entry.operation === 'mailFolders.get');
        expect(reads.map((entry) => decodeURIComponent(entry.path).split('/').at(-1)?.split('?')[0]?.toLowerCase()).sort()).toEqual(
          [...WELL_KNOWN_FOLDERS].sort(),
        );
      }
      pages.push(page);
      // Resumable: the token is all the state there is (JSON, survives a restart).
      resume = page.next === null ? null : JSON.parse(JSON.stringify(page.next));
    } while (resume);

    const all = pages.flatMap((page) => page.messages);
    expect(all).toHaveLength(INBOX + SENT);
    expect(new Set(all.map((message) => message.providerMessageId)).size).toBe(INBOX + SENT);
    expect(all.filter((message) => message.folder === 'sent')).toHaveLength(SENT);
    expect(all.filter((message) => message.direction === 'outbound')).toHaveLength(SENT);
    expect(pages[0]?.estimatedTotal).toBe(INBOX + SENT);
    expect(pages.length).toBe(Math.ceil(INBOX / 250));

    for (const folder of ['inbox', 'sent'] as const) {
      const times = all.filter((message) => message.folder === folder).map((message) => message.receivedAt);
      expect(times).toEqual([...times].sort((left, right) => right - left));
    }
    // The first page carries the newest mail of both folders.
    const newest = Math.max(...all.map((message) => message.receivedAt));
    expect(pages[0]?.messages.some((message) => message.receivedAt === newest)).toBe(true);

    expect(pages.slice(0, -1).every((page) => page.cursor === undefined)).toBe(true);
    const cursor = pages.at(-1)?.cursor;
    expect(cursor).toBeDefined();

    // The listing's cursor tracks changes to back-filled mail too (an old message deleted).
    const oldest = all.reduce((left, right) => (left.receivedAt < right.receivedAt ? left : right));
    harness.ms.deleteMessage('ana@contoso.com', oldest.providerMessageId);
    const tracking = { ...connected, connection: { ...connected.connection, cursor: cursor! } };
    const changes = await pullAll(harness.provider, tracking);
    expect(changes).toEqual([{ type: 'delete', providerMessageId: oldest.providerMessageId }]);
  });

  it('restricts the listing to the since window with the delta $filter', async () => {
    const since = start + 300 * DAY;
    const listed: ProviderMessage[] = [];
    let resume: string | null = null;
    do {
      const page = await harness.provider.fullSync(connected.session, resume, { pageSize: 500, since });
      listed.push(...page.messages);
      expect(page.estimatedTotal).toBeUndefined();
      resume = page.next;
    } while (resume);
    const expected = Math.ceil(INBOX + SENT - (300 * DAY) / (2 * 3_600_000));
    expect(Math.abs(listed.length - expected)).toBeLessThanOrEqual(1);
    // Graph renders dates to the second.
    expect(listed.every((message) => message.receivedAt >= since - 1_000)).toBe(true);
  });
});
