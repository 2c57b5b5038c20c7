// The privacy contract at the facade: a canary placed in a body travels provider → caller and
// nowhere else — not the store's physical rows, not a log line at debug level, not an event.
import { consoleJsonLogger } from '@threadlink/core';
import { memoryStore, memoryStoreRaw } from '@threadlink/storage-memory';
import { internalsOf } from '@threadlink/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { connectedHarness } from './support/harness.js';
import { scriptedMailbox } from './support/scripted-provider.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

describe('privacy contract', () => {
  it('returns a body canary to the caller but never stores, logs or emits it', async () => {
    const canary = `CANARY-${Math.random().toString(36).slice(2)}`;
    const mailbox = scriptedMailbox();
    mailbox.provider.fetchBody = async () => ({
      html: `<p>${canary}</p><script>alert("${canary}")</script><img src="https://tracker.test/p.gif">`,
      text: `secret ${canary}`,
      attachments: [{ name: 'quote.pdf', mimeType: 'application/pdf', size: 1200 }],
    });
    const store = memoryStore();
    const lines: string[] = [];
    const emitted: string[] = [];
    const { tl, connection } = await connectedHarness({ store, logger: consoleJsonLogger({ level: 'debug', write: (line) => lines.push(line) }) }, mailbox);
    stops.push(() => tl.stop());
    for (const name of ['message.synced', 'message.matched', 'message.deleted', 'sync.error', 'backfill.progress', 'connection.live'] as const) {
      tl.on(name, (payload) => emitted.push(JSON.stringify(payload)));
    }
    mailbox.add({ subject: 'Change request – PRJ-1042' });
    await internalsOf(tl).engine.requestSync(connection.id, 'push');
    await tl.idle();
    const [message] = (await tl.timeline.forRecord({ type: 'client', id: 'c-bigco' }, { tenantId: 't1', as: 'admin' })).threads[0]!.messages;
    const body = await tl.messages.body(message!.id, { tenantId: 't1', as: 'admin', format: 'html' });
    expect(body.html).toContain(canary);
    expect(body.html).not.toContain('<script');
    expect(body.html).not.toMatch(/\ssrc="https:\/\/tracker/);
    expect(body.html).toContain('data-blocked-src="https://tracker.test/p.gif"');
    const context = await tl.messages.draftContext(message!.id, { tenantId: 't1', as: 'admin' });
    expect(context.body.text).toContain(canary);

    const dump = JSON.stringify(await memoryStoreRaw(store).dump());
    expect(dump).toContain('PRJ-1042');
    expect(dump).not.toContain(canary);
    expect(dump).not.toContain('refresh-secret-456');
    expect(lines.join('\n')).not.toContain(canary);
    expect(lines.join('\n')).not.toContain('refresh-secret-456');
    expect(emitted.join('\n')).not.toContain(canary);
    expect(emitted.length).toBeGreaterThan(0);
  });

  it('offboarding removes every row of the connection and stops push', async () => {
    const store = memoryStore();
    const { tl, mailbox, connection } = await connectedHarness({ store });
    stops.push(() => tl.stop());
    mailbox.add({ subject: 'Change request – PRJ-1042' });
    await internalsOf(tl).engine.requestSync(connection.id, 'push');
    await tl.idle();
    const result = await tl.connections.disconnect(connection.id, { purge: true, tenantId: 't1', as: 'admin' });
    expect(result.purged?.messages).toBe(1);
    expect(result.unsubscribed && result.revoked).toBe(true);
    expect(mailbox.calls.unsubscribe).toBe(1);
    expect(mailbox.calls.revoke).toBe(1);
    const dump = await memoryStoreRaw(store).dump();
    expect(JSON.stringify(dump)).not.toContain(connection.id);
    expect((await tl.timeline.forRecord({ type: 'client', id: 'c-bigco' }, { tenantId: 't1', as: 'admin' })).threads).toEqual([]);
  });
});
