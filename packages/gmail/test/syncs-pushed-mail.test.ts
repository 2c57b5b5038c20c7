import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';

const ANA = 'ana@acme.test';

describe('real-time sync from Pub/Sub pushes', () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness();
  });
  afterEach(async () => {
    await harness.close();
  });

  async function storedByProviderId(connectionId: string, providerMessageId: string) {
    return harness.store.getMessageByProviderId(connectionId, providerMessageId);
  }

  it('stores a pushed message with its metadata and links it to the client and the project', async () => {
    const connection = await harness.connect(ANA);
    const delivered = await harness.google.deliver({
      to: ANA,
      cc: 'Bob <bob@acme.test>',
      from: 'Client Person <client@bigco.test>',
      subject: 'Change request – PRJ-1042',
      text: 'Please see attached.',
      attachments: [{ filename: 'PRJ-1042 drawing.pdf', content: 'pdf bytes', contentType: 'application/pdf' }],
    });
    await harness.settle();

    const stored = await storedByProviderId(connection.id, delivered.id);
    expect(stored).toMatchObject({
      providerThreadId: delivered.threadId,
      internetMessageId: delivered.messageId,
      subject: 'Change request – PRJ-1042',
      from: { address: 'client@bigco.test', name: 'Client Person' },
      to: [{ address: ANA }],
      cc: [{ address: 'bob@acme.test', name: 'Bob' }],
      direction: 'inbound',
      folder: 'inbox',
      hasAttachments: true,
      attachments: [{ name: 'PRJ-1042 drawing.pdf', mimeType: 'application/pdf', size: 9 }],
    });
    expect(stored?.labels).toContain('INBOX');
    const linked = stored?.links.map((link) => `${link.record.type}:${link.record.id}`).sort();
    expect(linked).toEqual(['client:c-bigco', 'project:p-1042']);
    expect(harness.eventsNamed('message.matched').some((event) => event.message.providerMessageId === delivered.id)).toBe(true);

    const timeline = await harness.tl.timeline.forRecord({ type: 'project', id: 'p-1042' }, { tenantId: 't1', as: 'admin' });
    expect(timeline.threads.flatMap((thread) => thread.messages.map((message) => message.providerMessageId))).toEqual([delivered.id]);
  });

  it('keeps one row per message when pushes are duplicated and arrive out of order', async () => {
    // Gmail's per-user notification window off: every delivery is its own push, so the fault has
    // six pushes to duplicate and swap (instead of sleeping past a window after each delivery).
    await harness.close();
    harness = await startHarness({ emulator: { notificationIntervalMs: 0 } });
    const connection = await harness.connect(ANA);
    harness.google.faults.duplicateNotifications = 1;
    harness.google.faults.reorderNotifications = true;
    const delivered = [];
    for (let index = 0; index < 6; index += 1) {
      delivered.push(await harness.google.deliver({ to: ANA, from: 'client@bigco.test', subject: `Update ${index}` }));
    }
    await harness.settle();

    expect(harness.google.pushLog.duplicated).toBeGreaterThan(0);
    const ids = await harness.store.listProviderMessageIds(connection.id);
    expect(ids.sort()).toEqual(delivered.map((message) => message.id).sort());
    const synced = harness.eventsNamed('message.synced').filter((event) => event.created);
    expect(synced.map((event) => event.message.providerMessageId).sort()).toEqual(delivered.map((message) => message.id).sort());
    // Every push was acknowledged, duplicates and stale ones included: Pub/Sub must not redeliver.
    expect(harness.google.pushLog.status.every((status) => status >= 200 && status < 300)).toBe(true);
  });

  it('follows label moves, removes trashed and deleted messages and never syncs drafts', async () => {
    const connection = await harness.connect(ANA);
    const archived = await harness.google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'Archive me' });
    const trashed = await harness.google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'Trash me' });
    const deleted = await harness.google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'Delete me' });
    const draft = await harness.google.deliver({ to: 'client@bigco.test', from: ANA, subject: 'Draft reply', labelIds: ['DRAFT'], mailbox: ANA });
    await harness.settle();
    expect(await storedByProviderId(connection.id, archived.id)).not.toBeNull();
    expect(await storedByProviderId(connection.id, draft.id)).toBeNull();

    harness.google.modifyLabels(ANA, archived.id, ['Label_1'], ['INBOX']);
    harness.google.modifyLabels(ANA, trashed.id, ['TRASH'], ['INBOX']);
    harness.google.deleteMessage(ANA, deleted.id);
    await harness.settle();

    const moved = await storedByProviderId(connection.id, archived.id);
    expect(moved?.folder).toBe('archive');
    expect(moved?.labels).not.toContain('INBOX');
    expect(await storedByProviderId(connection.id, trashed.id)).toBeNull();
    expect(await storedByProviderId(connection.id, deleted.id)).toBeNull();
    const deletions = harness
      .eventsNamed('message.deleted')
      .map((event) => event.providerMessageId)
      .sort();
    expect(deletions).toEqual([trashed.id, deleted.id].sort());
  });

  it('catches mail whose push Gmail dropped with the safety-net pull', async () => {
    await harness.close();
    harness = await startHarness({ engine: { safetyNetPullMs: 0 } });
    const connection = await harness.connect(ANA);
    // Gmail drops notifications beyond one per second per user: here every one of them is lost.
    harness.google.faults.dropNotifications = 1;
    const lost = await harness.google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'Nobody told us' });
    await harness.settle();
    expect(await storedByProviderId(connection.id, lost.id)).toBeNull();

    await harness.tl.maintain();
    await harness.settle();
    expect(await storedByProviderId(connection.id, lost.id)).not.toBeNull();
  });
});
