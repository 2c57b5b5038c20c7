// A resync after an expired cursor has no pull from a kept cursor behind it: listing ids only would
// leave every label or folder change made in the gap unseen, unless the adapter compares the stored
// labels itself (MailProvider.resyncComparesLabels, as Gmail and Outlook do). An adapter that does not
// say so is asked for the whole mailbox, as before issue 21.
import type { FullSyncOptions } from '@threadlink/core/provider';
import { internalsOf } from '@threadlink/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { connectedHarness } from './support/harness.js';
import { scriptedMailbox } from './support/scripted-provider.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

async function resyncOptionsAfterExpiry(comparesLabels: boolean): Promise<FullSyncOptions[]> {
  const mailbox = scriptedMailbox();
  const first = mailbox.add({ subject: 'stored before the gap' });
  mailbox.add({ subject: 'also stored' });
  const seen: FullSyncOptions[] = [];
  const original = mailbox.provider.fullSync.bind(mailbox.provider);
  mailbox.provider.fullSync = (session, resume, options) => {
    seen.push(options);
    return original(session, resume, options);
  };
  if (comparesLabels) Object.assign(mailbox.provider, { resyncComparesLabels: true });
  const { tl, store, connection } = await connectedHarness({}, mailbox);
  stops.push(() => tl.stop());
  seen.length = 0;
  mailbox.add({ subject: 'new while expired' });
  mailbox.expireBefore = mailbox.position();
  await internalsOf(tl).engine.requestSync(connection.id, 'push');
  await tl.idle();
  expect((await store.listProviderMessageIds(connection.id)).sort()).toEqual(mailbox.ids());
  expect(await store.getMessageByProviderId(connection.id, first)).not.toBeNull();
  return seen;
}

describe('resync after an expired cursor', () => {
  it('hands an adapter that compares labels the stored ids and the label ids stored for each', async () => {
    const seen = await resyncOptionsAfterExpiry(true);
    expect(seen.length).toBeGreaterThan(0);
    for (const options of seen) {
      expect([...(options.known ?? [])].length).toBe(2);
      expect([...(options.knownLabels?.values() ?? [])]).toEqual([['INBOX'], ['INBOX']]);
    }
  });

  it('asks any other adapter for the whole mailbox, so no change made in the gap is skipped', async () => {
    const seen = await resyncOptionsAfterExpiry(false);
    expect(seen.length).toBeGreaterThan(0);
    for (const options of seen) {
      expect(options.known).toBeUndefined();
      expect(options.knownLabels).toBeUndefined();
    }
  });
});
