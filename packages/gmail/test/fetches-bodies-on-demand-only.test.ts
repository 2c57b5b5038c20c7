import type { ThreadlinkError } from '@threadlink/core';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';

const ANA = 'ana@acme.test';
const CANARY = 'CANARY-7f3a9c1e-body-must-never-be-kept';

describe('message bodies', () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it('fetches a sanitised body on demand while the canary never reaches the store, the logs, the events or a sync response', async () => {
    harness = await startHarness({ recordApi: true });
    const connection = await harness.connect(ANA);
    const delivered = await harness.google.deliver({
      to: ANA,
      from: 'client@bigco.test',
      subject: 'Site visit notes',
      text: `Plain part with ${CANARY}`,
      html: `<p onclick="steal()">HTML part with ${CANARY}</p><script>alert("${CANARY}")</script><img src="https://tracker.example/pixel.gif">`,
      attachments: [{ filename: 'notes.txt', content: `attachment with ${CANARY}`, contentType: 'text/plain' }],
    });
    await harness.settle();
    const stored = await harness.store.getMessageByProviderId(connection.id, delivered.id);
    expect(stored?.attachments).toEqual([
      { id: '1', name: 'notes.txt', mimeType: 'text/plain', size: Buffer.byteLength(`attachment with ${CANARY}`), inline: false },
    ]);

    // Sync traffic: field masks keep snippet, raw and part data off the wire entirely.
    const syncTraffic = harness.apiExchanges.map((exchange) => exchange.responseBody).join('\n');
    expect(harness.apiExchanges.some((exchange) => exchange.url.includes('/batch/') || exchange.url.includes('/messages/'))).toBe(true);
    expect(syncTraffic).not.toContain(CANARY);
    expect(syncTraffic).not.toMatch(/"(snippet|raw|data)"\s*:/);

    const body = await harness.tl.messages.body(stored!.id, { tenantId: 't1', as: 'admin' });
    expect(body.text).toContain(CANARY);
    expect(body.html).toContain(`HTML part with ${CANARY}`);
    expect(body.html).not.toMatch(/<script|onclick|\ssrc="https:\/\/tracker/i);
    expect(body.html).toContain('data-blocked-src="https://tracker.example/pixel.gif"');
    expect(body.attachments).toEqual([{ name: 'notes.txt', mimeType: 'text/plain', size: Buffer.byteLength(`attachment with ${CANARY}`) }]);
    const textOnly = await harness.tl.messages.body(stored!.id, { tenantId: 't1', as: 'admin', format: 'text' });
    expect(textOnly.html).toBeNull();

    // A reply syncs back too; still nothing of the body anywhere threadlink keeps or tells.
    await harness.tl.messages.reply(stored!.id, { tenantId: 't1', as: 'admin', text: 'Thanks, noted.' });
    await harness.settle();
    expect(JSON.stringify(await harness.store.raw.dump())).not.toContain(CANARY);
    expect(harness.logger.lines.join('\n')).not.toContain(CANARY);
    expect(harness.logger.lines.some((line) => line.includes('"debug"'))).toBe(true);
    expect(JSON.stringify(harness.events)).not.toContain(CANARY);
  });

  it('refuses bodies in metadata mode without asking Google', async () => {
    harness = await startHarness({ provider: { mode: 'metadata' } });
    const connection = await harness.connect(ANA);
    const delivered = await harness.google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'Metadata only', text: CANARY });
    await harness.settle();
    const stored = await harness.store.getMessageByProviderId(connection.id, delivered.id);
    expect(stored?.subject).toBe('Metadata only');
    const getsBefore = harness.google.log.count({ operation: 'messages.get' });
    const error = (await harness.tl.messages.body(stored!.id, { tenantId: 't1', as: 'admin' }).catch((caught: unknown) => caught)) as ThreadlinkError;
    expect(error.code).toBe('INSUFFICIENT_SCOPE');
    expect(error.message).toMatch(/metadata mode/);
    expect(harness.google.log.count({ operation: 'messages.get' })).toBe(getsBefore);
  });
});
