import { createHash, randomBytes } from 'node:crypto';
import type { ThreadlinkError } from '@threadlink/core';
import { generatedStream, memoryMeter } from '@threadlink/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startFacade, type Facade } from './harness.js';

const ANA = 'ana@contoso.com';
const CLIENT = 'client@acme.com';
const ADMIN = { tenantId: 't1', as: 'admin' } as const;
const TEN_MB = 10 * 1024 * 1024;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const count = (facade: Facade, operation: string) => facade.ms.log.entries.filter((entry) => entry.operation === operation).length;

/** What the client's own mailbox received: the file's name and the hash of its bytes. */
function received(facade: Facade, subject: string) {
  const copy = facade.ms.messages(CLIENT).find((message) => message.folder === 'inbox' && message.subject === subject);
  return copy?.attachments.map((attachment) => ({ name: attachment.name, size: attachment.size, sha256: sha256(attachment.content) }));
}

describe('large outgoing attachments (Outlook upload sessions)', () => {
  let facade: Facade | undefined;
  afterEach(async () => {
    await facade?.close();
    facade = undefined;
  });

  // First in the file, so the baseline is a fresh worker's.
  it('forwards with a 20 MB file the host hands over as a stream: read once, uploaded in ranges, heap growth measured', async () => {
    facade = await startFacade();
    facade.ms.addMailbox({ email: CLIENT, name: 'Carla Client' });
    await facade.connect(ANA);
    await facade.ms.deliver({ from: 'buyer@bigco.test', to: ANA, subject: 'Survey', text: 'Please pass on.' });
    await facade.settle();
    const rows = (await facade.store.raw.dump()).messages as Array<{ id: string; subject: string }>;
    const original = rows.find((row) => row.subject === 'Survey')!;
    const size = 20 * 1024 * 1024;
    const source = generatedStream(size);
    const meter = memoryMeter();
    const sampler = setInterval(() => meter.sample(), 25);
    try {
      await facade.tl.messages.forward(original.id, {
        ...ADMIN,
        to: [{ address: CLIENT }],
        text: 'Scans attached.',
        attachments: [{ filename: 'scans.zip', content: source.stream }],
      });
    } finally {
      clearInterval(sampler);
    }
    meter.sample();
    expect(received(facade, 'FW: Survey')).toEqual([{ name: 'scans.zip', size, sha256: source.sha256() }]);
    console.info(
      `outlook 20 MiB outgoing attachment from a stream: peak live heap+arrayBuffers growth ${(meter.peakGrowth / 1024 / 1024).toFixed(1)} MiB, peak RSS ${(meter.peakRss / 1024 / 1024).toFixed(0)} MiB`,
    );
    // The file once as bytes plus the emulator's copies (draft, sent copy, recipient's copy).
    expect(meter.peakGrowth).toBeLessThan(120 * 1024 * 1024);
  });

  it('a 10 MB file on a new message and on a reply goes up in ranges and reaches the client intact', async () => {
    facade = await startFacade();
    facade.ms.addMailbox({ email: CLIENT, name: 'Carla Client' });
    const connection = await facade.connect(ANA);
    const drawing = randomBytes(TEN_MB);

    await facade.tl.messages.send({
      ...ADMIN,
      connectionId: connection.id,
      to: [{ address: CLIENT }],
      subject: 'Site drawing',
      text: 'The drawing for the site.',
      attachments: [{ filename: 'site-drawing.dwg', content: drawing, contentType: 'application/octet-stream' }],
    });
    expect(received(facade, 'Site drawing')).toEqual([{ name: 'site-drawing.dwg', size: TEN_MB, sha256: sha256(drawing) }]);
    expect(count(facade, 'attachments.createUploadSession')).toBe(1);
    // 10 MiB in ranges of 12 × 320 KiB: three PUTs, none over Graph's 4 MB.
    expect(count(facade, 'attachments.upload')).toBe(3);
    expect(count(facade, 'attachments.create')).toBe(0);

    await facade.ms.deliver({ from: CLIENT, to: ANA, subject: 'Plans', text: 'Send me the plans.' });
    await facade.settle();
    const rows = (await facade.store.raw.dump()).messages as Array<{ id: string; subject: string }>;
    const question = rows.find((row) => row.subject === 'Plans');
    const plans = randomBytes(TEN_MB);
    await facade.tl.messages.reply(question!.id, {
      ...ADMIN,
      text: 'Here they are.',
      attachments: [
        { filename: 'plans.pdf', content: plans, contentType: 'application/pdf' },
        { filename: 'note.txt', content: new TextEncoder().encode('small'), contentType: 'text/plain' },
      ],
    });
    expect(received(facade, 'RE: Plans')).toEqual([
      { name: 'plans.pdf', size: TEN_MB, sha256: sha256(plans) },
      { name: 'note.txt', size: 5, sha256: sha256(new TextEncoder().encode('small')) },
    ]);
    expect(count(facade, 'messages.send')).toBe(2);
  });

  it('refuses past Exchange’s limits before anything is sent, with PAYLOAD_TOO_LARGE', async () => {
    facade = await startFacade();
    const connection = await facade.connect(ANA);
    const tooMuch = Array.from({ length: 4 }, (_, index) => ({ filename: `part-${index}.bin`, content: new Uint8Array(9 * 1024 * 1024) }));
    const refusal = async (maxAttachmentBytes?: number) =>
      (await facade!.tl.messages
        .send({
          ...ADMIN,
          connectionId: connection.id,
          to: [{ address: CLIENT }],
          subject: 'Too big',
          text: 'x',
          attachments: tooMuch,
          ...(maxAttachmentBytes ? { maxAttachmentBytes } : {}),
        })
        .catch((caught: unknown) => caught)) as ThreadlinkError;
    // Core's default limit of one message's files (35 MB) says no first…
    expect(await refusal()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', details: { maxBytes: 35 * 1024 * 1024 } });
    // …and with a host's higher limit, the adapter's Exchange limit does.
    const error = await refusal(100 * 1024 * 1024);
    expect(error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(error.message).toContain('Exchange Online');
    expect(count(facade, 'messages.create') + count(facade, 'messages.send') + count(facade, 'attachments.createUploadSession')).toBe(0);
  });
});
