import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';

const ANA = 'ana@acme.test';

describe('history.list 404 (history expired)', () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  it('resyncs the whole mailbox and keeps automatic and manual links', async () => {
    const connection = await harness.connect(ANA);
    const { google, store, tl } = harness;
    const first = await google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'Quote for PRJ-1042' });
    const doomed = await google.deliver({ to: ANA, from: 'someone@else.test', subject: 'Will be deleted while history is lost' });
    await harness.settle();
    const firstRow = await store.getMessageByProviderId(connection.id, first.id);
    expect(firstRow).not.toBeNull();
    await tl.matching.link(firstRow!.id, { type: 'deal', id: 'deal-7', label: 'Big deal' }, { tenantId: 't1', as: 'admin' });
    const cursorBefore = (await store.getConnection(connection.id))?.cursor;

    // Everything from here happens while threadlink's cursor falls out of Gmail's history window.
    google.deleteMessage(ANA, doomed.id);
    google.expireHistory(ANA);
    const second = await google.deliver({
      to: ANA,
      from: 'client@bigco.test',
      subject: 'Re: Quote for PRJ-1042',
      inReplyTo: first.messageId,
      references: [first.messageId],
    });
    await harness.settle();

    const history = google.log.entries.filter((entry) => entry.operation === 'history.list');
    expect(history.some((entry) => entry.status === 404)).toBe(true);
    const ids = (await store.listProviderMessageIds(connection.id)).sort();
    expect(ids).toEqual([first.id, second.id].sort());
    const keys = (links: { record: { type: string; id: string } }[] | undefined) => links?.map((link) => `${link.record.type}:${link.record.id}`).sort();
    expect(keys((await store.getMessageByProviderId(connection.id, first.id))?.links)).toEqual(['client:c-bigco', 'deal:deal-7', 'project:p-1042']);
    expect(keys((await store.getMessageByProviderId(connection.id, second.id))?.links)).toEqual(expect.arrayContaining(['client:c-bigco', 'project:p-1042']));
    // The cursor moved to the profile historyId read at the start of the listing, and real time continues from it.
    const after = await store.getConnection(connection.id);
    expect(after?.cursor).not.toBe(cursorBefore);
    const third = await google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'After the resync' });
    await harness.settle();
    expect(await store.getMessageByProviderId(connection.id, third.id)).not.toBeNull();
    expect(harness.eventsNamed('sync.error').filter((event) => event.code !== 'CURSOR_EXPIRED')).toEqual([]);
  });
});
