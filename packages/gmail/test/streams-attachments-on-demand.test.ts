import { createHash } from 'node:crypto';
import type { ThreadlinkError } from '@threadlink/core';
import { consumeMeasured as consume, memoryMeter } from '@threadlink/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeAttachmentData } from '../src/attachment-json.js';
import { startHarness, type Harness } from './harness.js';

const ANA = 'ana@acme.test';
const ADMIN = { tenantId: 't1', as: 'admin' } as const;
const CANARY = 'CANARY-5b1e-attachment-bytes-must-never-be-kept';

const sha256 = (content: Buffer) => createHash('sha256').update(content).digest('hex');

describe('attachments on demand (Gmail)', () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it('stores each attachment’s part id and streams its bytes with a sanitised name and type, keeping none of them', async () => {
    harness = await startHarness({ recordApi: true });
    const connection = await harness.connect(ANA);
    const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from(CANARY), Buffer.alloc(70_000, 7)]);
    const delivered = await harness.google.deliver({
      to: ANA,
      from: 'client@bigco.test',
      subject: 'Signed proposal PRJ-1042',
      text: 'Signed, attached.',
      attachments: [
        { filename: 'proposal-signed.pdf', content: pdf, contentType: 'application/pdf' },
        { filename: '../../etc/\u202Efdp.exe', content: Buffer.from(CANARY), contentType: 'text/html; charset=utf-8' },
      ],
    });
    await harness.settle();
    const stored = await harness.store.getMessageByProviderId(connection.id, delivered.id);
    expect(stored?.attachments.map(({ name, mimeType, size, inline }) => ({ name, mimeType, size, inline }))).toEqual([
      { name: 'proposal-signed.pdf', mimeType: 'application/pdf', size: pdf.length, inline: false },
      { name: '../../etc/\u202Efdp.exe', mimeType: 'text/html', size: CANARY.length, inline: false },
    ]);
    const [proposal, hostile] = stored!.attachments;
    expect(proposal?.id).toMatch(/^\d+(\.\d+)*$/);

    const download = await harness.tl.messages.attachment(stored!.id, proposal!.id!, ADMIN);
    expect(download).toMatchObject({ filename: 'proposal-signed.pdf', contentType: 'application/pdf', size: pdf.length });
    const read = await consume(download.stream);
    expect(read.sha256).toBe(sha256(pdf));
    expect(read.bytes).toBe(pdf.length);

    const renamed = await harness.tl.messages.attachment(stored!.id, hostile!.id!, ADMIN);
    expect(renamed.filename).toBe('fdp.exe');
    expect(renamed.contentType).toBe('text/html');
    await renamed.stream.cancel();

    // An id the message does not list is refused without a provider call.
    const gets = harness.google.log.count({ operation: 'messages.attachments.get' });
    const unknown = (await harness.tl.messages.attachment(stored!.id, '9.9', ADMIN).catch((caught: unknown) => caught)) as ThreadlinkError;
    expect(unknown.code).toBe('NOT_FOUND');
    // Another tenant sees no such message.
    const foreign = (await harness.tl.messages
      .attachment(stored!.id, proposal!.id!, { tenantId: 't2', as: 'admin' })
      .catch((caught: unknown) => caught)) as ThreadlinkError;
    expect(foreign.code).toBe('NOT_FOUND');
    expect(harness.google.log.count({ operation: 'messages.attachments.get' })).toBe(gets);

    expect(JSON.stringify(await harness.store.raw.dump())).not.toContain(CANARY);
    expect(harness.logger.lines.join('\n')).not.toContain(CANARY);
    expect(JSON.stringify(harness.events)).not.toContain(CANARY);
  });

  it('streams a 20 MB attachment in bounded chunks and refuses one over the caller’s limit before downloading it', async () => {
    harness = await startHarness();
    const connection = await harness.connect(ANA);
    const big = Buffer.alloc(20 * 1024 * 1024);
    for (let index = 0; index < big.length; index += 4096) big.writeUInt32BE(index, index);
    const delivered = await harness.google.deliver({
      to: ANA,
      from: 'client@bigco.test',
      subject: 'Site survey scans',
      text: 'Scans attached.',
      attachments: [{ filename: 'scans.zip', content: big, contentType: 'application/zip' }],
    });
    await harness.settle();
    const stored = await harness.store.getMessageByProviderId(connection.id, delivered.id);
    const id = stored!.attachments[0]!.id!;

    const gets = harness.google.log.count({ operation: 'messages.attachments.get' });
    const refused = (await harness.tl.messages
      .attachment(stored!.id, id, { ...ADMIN, maxBytes: 1024 * 1024 })
      .catch((caught: unknown) => caught)) as ThreadlinkError;
    expect(refused.code).toBe('PAYLOAD_TOO_LARGE');
    expect(harness.google.log.count({ operation: 'messages.attachments.get' })).toBe(gets);

    // Measured from before the request: the emulator answers in this process and streams its JSON
    // (attachment-stream.ts), so building the answer would count here too.
    const meter = memoryMeter();
    const download = await harness.tl.messages.attachment(stored!.id, id, ADMIN);
    expect(download.size).toBe(big.length);
    const read = await consume(download.stream, 16, meter);
    expect(read.sha256).toBe(sha256(big));
    expect(read.chunks).toBeGreaterThan(20);
    console.info(
      `gmail 20 MiB attachment: ${read.chunks} chunks, peak live heap+arrayBuffers growth ${(read.peakGrowth / 1024 / 1024).toFixed(1)} MiB, peak RSS ${(read.peakRss / 1024 / 1024).toFixed(0)} MiB`,
    );
    // Buffered whole, the decoded file alone would be 20 MiB of it (and the base64 text 27 MiB more).
    expect(read.peakGrowth).toBeLessThan(8 * 1024 * 1024);
  });

  it('refuses attachments in metadata mode without asking Google', async () => {
    harness = await startHarness({ provider: { mode: 'metadata' } });
    const connection = await harness.connect(ANA);
    const delivered = await harness.google.deliver({
      to: ANA,
      from: 'client@bigco.test',
      subject: 'Metadata only',
      text: 'x',
      attachments: [{ filename: 'a.pdf', content: Buffer.from('x'), contentType: 'application/pdf' }],
    });
    await harness.settle();
    const stored = await harness.store.getMessageByProviderId(connection.id, delivered.id);
    // format=metadata shows no parts: no attachment ids to store (hasAttachments comes from multipart/mixed).
    expect(stored?.attachments).toEqual([]);
    expect(stored?.hasAttachments).toBe(true);
    const error = (await harness.tl.messages.attachment(stored!.id, '1', ADMIN).catch((caught: unknown) => caught)) as ThreadlinkError;
    expect(error.code).toBe('INSUFFICIENT_SCOPE');
    expect(harness.google.log.count({ operation: 'messages.attachments.get' })).toBe(0);
  });
});

describe('decodeAttachmentData', () => {
  async function decode(parts: string[]): Promise<Buffer> {
    const out: Buffer[] = [];
    for await (const chunk of decodeAttachmentData(parts.map((part) => Buffer.from(part)))) out.push(Buffer.from(chunk));
    return Buffer.concat(out);
  }

  it('decodes base64url split at every boundary, and refuses what is not MessagePartBody JSON', async () => {
    const content = Buffer.from(Array.from({ length: 1000 }, (_, index) => (index * 37) % 256));
    const json = `{\n  "data": "${content.toString('base64url')}"\n}\n`;
    for (const size of [1, 2, 3, 5, 7, 64, 4096]) {
      const parts: string[] = [];
      for (let index = 0; index < json.length; index += size) parts.push(json.slice(index, index + size));
      expect((await decode(parts)).equals(content)).toBe(true);
    }
    expect((await decode(['{}'])).length).toBe(0);
    await expect(decode(['{"data": "ab$d"}'])).rejects.toMatchObject({ code: 'PROVIDER_ERROR' });
    await expect(decode(['{"data": "abcd'])).rejects.toMatchObject({ code: 'PROVIDER_ERROR' });
    await expect(decode(['{"size": 3}'])).rejects.toMatchObject({ code: 'PROVIDER_ERROR' });
    await expect(decode(['{"data": "abcd", "x": 1}'])).rejects.toMatchObject({ code: 'PROVIDER_ERROR' });
  });
});
