// Issue 21: a sync job asks the store to open the page's transaction as soon as the provider has
// listed the page (PullOptions.onListed → MetadataStore.prepareSync), hands that transaction to the
// page's applySync, and releases it when the page is never committed. The store here is the memory
// store with a recording prepareSync, so what is checked is the engine's side of the contract.
import { ThreadlinkError, type MetadataStore } from '@threadlink/core';
import type { ApplySyncOptions, PreparedSync, SyncPreview } from '@threadlink/core/store';
import { memoryStore } from '@threadlink/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { connectedHarness } from './support/harness.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

const push = (id: string): Request =>
  new Request('https://crm.example.test/threadlink/webhooks/gmail', { method: 'POST', body: JSON.stringify({ account: 'ana@acme.com', id }) });

/** The memory store with a prepareSync that records what it was asked and what became of each handle. */
function preparingStore() {
  const inner = memoryStore();
  const previews: SyncPreview[] = [];
  const handles: Array<PreparedSync & { released: number; applied: number }> = [];
  const store = Object.assign(Object.create(inner) as MetadataStore, {
    prepareSync(connectionId: string, preview: SyncPreview) {
      previews.push(preview);
      const handle = {
        connectionId,
        released: 0,
        applied: 0,
        release() {
          handle.released += 1;
        },
      };
      handles.push(handle);
      return handle;
    },
    applySync(connectionId: string, batch: Parameters<MetadataStore['applySync']>[1], options?: ApplySyncOptions) {
      const handle = handles.find((candidate) => candidate === options?.prepared);
      if (handle) handle.applied += 1;
      return inner.applySync(connectionId, batch);
    },
  });
  return { store, previews, handles };
}

describe('a sync page opened while the provider reads it', () => {
  it('previews the listed messages with their stored ids and threads, and commits the page with that handle', async () => {
    const recording = preparingStore();
    const { tl, mailbox, store, connection } = await connectedHarness({ store: recording.store });
    stops.push(() => tl.stop());
    recording.previews.length = 0;
    recording.handles.length = 0;
    const first = mailbox.add({ subject: 'Hello', threadId: 'shared' });
    const second = mailbox.add({ subject: 'Re: Hello', threadId: 'shared' });
    expect((await tl.handler(push('push-1'))).status).toBe(202);
    await tl.idle();

    const stored = await Promise.all([first, second].map((id) => store.getMessageByProviderId(connection.id, id)));
    expect(recording.previews).toEqual([
      {
        threadIds: [stored[0]?.threadId],
        messages: stored.map((message) => ({ id: message?.id, providerMessageId: message?.providerMessageId })),
      },
    ]);
    expect(recording.handles.map(({ applied }) => applied)).toEqual([1]);
  });

  it('releases the transaction of a page whose read failed, and opens a fresh one for the retry', async () => {
    const recording = preparingStore();
    const { tl, mailbox, store, connection } = await connectedHarness({ store: recording.store, retryBackoff: { baseMs: 1, maxMs: 5 } });
    stops.push(() => tl.stop());
    recording.handles.length = 0;
    const id = mailbox.add({ subject: 'Flaky read' });
    mailbox.failPulls.push(new ThreadlinkError('PROVIDER_UNAVAILABLE', 'messages.get failed'));
    expect((await tl.handler(push('push-1'))).status).toBe(202);
    await tl.idle();

    expect(await store.getMessageByProviderId(connection.id, id)).not.toBeNull();
    expect(recording.handles.map(({ applied, released }) => ({ applied, released: released > 0 }))).toEqual([
      { applied: 0, released: true },
      { applied: 1, released: true },
    ]);
  });
});
