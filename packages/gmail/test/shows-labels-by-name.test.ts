// Labels by name: messages store Gmail label ids, and what the API returns carries each with its
// current display name (`labelRefs`). Gmail pushes no label rename, so names come from
// users.labels.list, read at connect, when a message carries an unknown label id, and on
// maintain()'s bound (labelRefreshIntervalMs) — all through the real Gmail client.
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';

const ANA = 'ana@acme.test';
const SCOPE = { tenantId: 't1', as: 'admin' } as const;

describe('Gmail labels by name', () => {
  let harness: Harness;
  afterEach(async () => {
    await harness.close();
  });

  const labelListCalls = () => harness.google.log.entries.filter((entry) => entry.operation === 'labels.list' && entry.mailbox === ANA).length;

  async function timelineLabels(providerMessageId: string) {
    const timeline = await harness.tl.timeline.forRecord({ type: 'client', id: 'c-bigco' }, SCOPE);
    const message = timeline.threads.flatMap((thread) => thread.messages).find((entry) => entry.providerMessageId === providerMessageId);
    return message?.labelRefs;
  }

  it('shows system labels by stable names and a user label added later by its name', async () => {
    harness = await startHarness();
    await harness.connect(ANA);
    // Read once at connect (the first back-fill page), whatever the number of messages.
    expect(labelListCalls()).toBe(1);

    const delivered = await harness.google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'Quote' });
    await harness.settle();
    const stored = await harness.store.getMessageByProviderId((await harness.tl.connections.list(SCOPE))[0]!.id, delivered.id);
    const message = await harness.tl.messages.get(stored!.id, SCOPE);
    expect(message.labelRefs).toEqual([
      { id: 'UNREAD', name: 'Unread', kind: 'system' },
      { id: 'CATEGORY_PERSONAL', name: 'Primary', kind: 'system' },
      { id: 'INBOX', name: 'Inbox', kind: 'system' },
    ]);
    // Known labels only: no extra directory read.
    expect(labelListCalls()).toBe(1);

    const clients = harness.google.createLabel(ANA, 'Clients/Key accounts');
    harness.google.modifyLabels(ANA, delivered.id, [clients], ['UNREAD']);
    await harness.settle();
    expect(await timelineLabels(delivered.id)).toEqual([
      { id: 'CATEGORY_PERSONAL', name: 'Primary', kind: 'system' },
      { id: 'INBOX', name: 'Inbox', kind: 'system' },
      { id: clients, name: 'Clients/Key accounts', kind: 'user' },
    ]);
    // The unknown id caused exactly one more read.
    expect(labelListCalls()).toBe(2);
    // Names are not copied onto message rows: the stored row keeps ids.
    expect(JSON.stringify((await harness.store.raw.dump())['messages'])).not.toContain('Key accounts');
  });

  it('shows a renamed label by its new name after the bounded refresh, and drops a deleted label from its messages', async () => {
    harness = await startHarness({ engine: { labelRefreshIntervalMs: 1_000 } });
    await harness.connect(ANA);
    const clients = harness.google.createLabel(ANA, 'Clients');
    const delivered = await harness.google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'Order', labelIds: ['INBOX', clients] });
    await harness.settle();
    expect((await timelineLabels(delivered.id))?.find((label) => label.id === clients)?.name).toBe('Clients');

    // A rename writes no history and sends no push: maintain() re-reads a directory older than the bound.
    harness.google.renameLabel(ANA, clients, 'Key clients');
    const before = labelListCalls();
    const early = await harness.tl.maintain();
    await harness.settle();
    expect(early.labelRefreshes).toBe(0);
    expect(labelListCalls()).toBe(before);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const due = await harness.tl.maintain();
    await harness.settle();
    expect(due.labelRefreshes).toBe(1);
    expect(labelListCalls()).toBe(before + 1);
    expect((await timelineLabels(delivered.id))?.find((label) => label.id === clients)?.name).toBe('Key clients');

    // Deleting the label removes it from its messages (labelRemoved history, pushed like any change).
    harness.google.deleteLabel(ANA, clients);
    await harness.settle();
    expect((await timelineLabels(delivered.id))?.map((label) => label.id)).toEqual(['INBOX']);
  });
});
