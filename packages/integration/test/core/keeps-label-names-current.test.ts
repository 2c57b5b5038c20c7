// The label directory as core keeps it, for any provider: names are resolved on read (a rename
// rewrites no message), a pull that reports `labelsChanged` (Outlook's folder changes) or an
// unknown label id re-reads it, a failed read never fails the sync, a provider without a directory
// still shows its ids, and the directory leaves with the connection (purge) and goes with it (export).
import type { Clock, ExportRecord, LabelRef } from '@threadlink/core';
import { ThreadlinkError } from '@threadlink/core';
import { describe, expect, it } from 'vitest';
import { connectedHarness } from './support/harness.js';
import { scriptedMailbox, type ScriptedMailbox } from './support/scripted-provider.js';

const SCOPE = { tenantId: 't1', userId: 'u1' } as const;

/** A scripted mailbox whose provider lists `directory` and may flag label changes on its pulls. */
function labelledMailbox() {
  const mailbox: ScriptedMailbox = scriptedMailbox();
  const base = mailbox.provider;
  const control = {
    directory: [
      { id: 'INBOX', name: 'Inbox', kind: 'system' },
      { id: 'f-clients', name: 'Clients', kind: 'user' },
    ] as LabelRef[],
    reads: 0,
    failNextRead: false,
    failing: false,
    labelsChanged: false,
  };
  mailbox.provider = {
    ...base,
    async listLabels() {
      control.reads += 1;
      if (control.failNextRead || control.failing) {
        control.failNextRead = false;
        throw new ThreadlinkError('PROVIDER_UNAVAILABLE', 'folders unavailable');
      }
      return control.directory.map((label) => ({ ...label }));
    },
    async pullChanges(session, cursor, options) {
      const result = await base.pullChanges(session, cursor, options);
      return control.labelsChanged ? { ...result, labelsChanged: true } : result;
    },
  };
  return { mailbox, control };
}

async function messageByProviderId(harness: Awaited<ReturnType<typeof connectedHarness>>, providerMessageId: string) {
  const stored = await harness.store.getMessageByProviderId(harness.connection.id, providerMessageId);
  return harness.tl.messages.get(stored!.id, SCOPE);
}

describe('label names', () => {
  it('reads the directory at connect and re-reads it when a pull says labels changed; a rename rewrites no message', async () => {
    const { mailbox, control } = labelledMailbox();
    const id = mailbox.add({ subject: 'Filed', labels: ['f-clients'] });
    const harness = await connectedHarness({}, mailbox);
    expect(control.reads).toBe(1);
    expect((await messageByProviderId(harness, id)).labelRefs).toEqual([{ id: 'f-clients', name: 'Clients', kind: 'user' }]);
    const before = JSON.stringify(await harness.store.getMessageByProviderId(harness.connection.id, id));

    control.directory = [{ id: 'f-clients', name: 'Key clients', kind: 'user' }];
    control.labelsChanged = true;
    await harness.tl.connections.sync(harness.connection.id, SCOPE);
    await harness.tl.idle();
    expect(control.reads).toBe(2);
    expect((await messageByProviderId(harness, id)).labelRefs).toEqual([{ id: 'f-clients', name: 'Key clients', kind: 'user' }]);
    const thread = await harness.tl.timeline.thread((await messageByProviderId(harness, id)).threadId, SCOPE);
    expect(thread[0]?.labelRefs.map((label) => label.name)).toEqual(['Key clients']);
    expect(JSON.stringify(await harness.store.getMessageByProviderId(harness.connection.id, id))).toBe(before);
    await harness.tl.stop();
  });

  it('re-reads once for an unknown label id, and a failed read leaves the sync committed and the id showing as itself', async () => {
    const { mailbox, control } = labelledMailbox();
    const harness = await connectedHarness({}, mailbox);
    expect(control.reads).toBe(1);

    control.failNextRead = true;
    const first = mailbox.add({ subject: 'New folder', labels: ['f-new'] });
    await harness.tl.connections.sync(harness.connection.id, SCOPE);
    await harness.tl.idle();
    expect(control.reads).toBe(2);
    // Stored all the same, its folder id standing for its name.
    expect((await messageByProviderId(harness, first)).labelRefs).toEqual([{ id: 'f-new', name: 'f-new', kind: 'user' }]);

    // The next message in that folder: the id was already asked about, so no read per pull...
    mailbox.add({ subject: 'Same folder', labels: ['f-new'] });
    await harness.tl.connections.sync(harness.connection.id, SCOPE);
    await harness.tl.idle();
    expect(control.reads).toBe(2);
    // ...but another unknown id is read for, and the provider now lists both.
    control.directory = [...control.directory, { id: 'f-new', name: 'Projects', kind: 'user' }, { id: 'f-other', name: 'Suppliers', kind: 'user' }];
    const other = mailbox.add({ subject: 'Other folder', labels: ['f-other'] });
    await harness.tl.connections.sync(harness.connection.id, SCOPE);
    await harness.tl.idle();
    expect(control.reads).toBe(3);
    expect((await messageByProviderId(harness, other)).labelRefs).toEqual([{ id: 'f-other', name: 'Suppliers', kind: 'user' }]);
    expect((await messageByProviderId(harness, first)).labelRefs).toEqual([{ id: 'f-new', name: 'Projects', kind: 'user' }]);
    await harness.tl.stop();
  });

  it('shows label ids as names for a provider without a directory, and maintain() asks it nothing', async () => {
    const mailbox = scriptedMailbox();
    const id = mailbox.add({ subject: 'Plain', labels: ['INBOX', 'Label_7'] });
    const harness = await connectedHarness({ engine: { labelRefreshIntervalMs: 0 } }, mailbox);
    expect((await messageByProviderId(harness, id)).labelRefs).toEqual([
      { id: 'INBOX', name: 'INBOX', kind: 'system' },
      { id: 'Label_7', name: 'Label_7', kind: 'user' },
    ]);
    expect((await harness.tl.maintain()).labelRefreshes).toBe(0);
    await harness.tl.stop();
  });

  it('maintain() reads a stale directory once per pass, through its pull, even with a back-fill page queued and the read failing', async () => {
    const { mailbox, control } = labelledMailbox();
    let now = Date.parse('2026-12-06T09:00:00Z');
    const clock: Clock = { now: () => now, sleep: async () => {} };
    const harness = await connectedHarness({ clock }, mailbox);
    expect(control.reads).toBe(1);
    const stored = await harness.store.getConnection(harness.connection.id);
    // Two hours later: the directory (hourly) and the safety net are due, and a back-fill page waits.
    now += 2 * 60 * 60_000;
    await harness.store.patchConnection(harness.connection.id, { backfill: { ...stored!.backfill, state: 'running', finishedAt: null } });
    control.failing = true;
    const first = await harness.tl.maintain();
    await harness.tl.idle();
    expect([first.pulls, first.backfills]).toEqual([1, 1]);
    expect(control.reads).toBe(2);

    // A second pass at once does not ask the failing directory again...
    await harness.tl.maintain();
    await harness.tl.idle();
    expect(control.reads).toBe(2);
    // ...a minute later it does, once, and a success is not repeated by the same pass's other jobs.
    control.failing = false;
    now += 61_000;
    await harness.store.patchConnection(harness.connection.id, { backfill: { ...stored!.backfill, state: 'running', finishedAt: null } });
    const third = await harness.tl.maintain();
    await harness.tl.idle();
    expect([third.pulls + third.labelRefreshes, third.backfills]).toEqual([1, 1]);
    expect(control.reads).toBe(3);
    await harness.tl.stop();
  });

  it('exports the directory with the connection and purges it on disconnect', async () => {
    const { mailbox } = labelledMailbox();
    mailbox.add({ subject: 'Filed', labels: ['f-clients'] });
    const harness = await connectedHarness({}, mailbox);
    const exported: ExportRecord[] = [];
    for await (const record of harness.tl.connections.export(harness.connection.id, SCOPE)) exported.push(record);
    expect(exported.filter((record) => record.kind === 'label').map((record) => record.data)).toEqual([
      { connectionId: harness.connection.id, id: 'INBOX', name: 'Inbox', kind: 'system' },
      { connectionId: harness.connection.id, id: 'f-clients', name: 'Clients', kind: 'user' },
    ]);
    await harness.tl.connections.disconnect(harness.connection.id, { ...SCOPE });
    expect(await harness.store.listLabels('t1', [harness.connection.id])).toEqual([]);
    await harness.tl.stop();
  });
});
