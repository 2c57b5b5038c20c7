import { createHash } from 'node:crypto';
import type { ThreadlinkError } from '@threadlink/core';
import { consumeMeasured as consume } from '@threadlink/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { startFacade, type Facade } from './harness.js';

const ANA = 'ana@contoso.com';
const ADMIN = { tenantId: 't1', as: 'admin' } as const;
const CANARY = 'CANARY-91c4-attachment-bytes-must-never-be-kept';

const sha256 = (content: Buffer) => createHash('sha256').update(content).digest('hex');

async function storedMessage(facade: Facade, subject: string) {
  await facade.settle();
  const rows = (await facade.store.raw.dump()).messages as Array<{ id: string; subject: string }>;
  const row = rows.find((candidate) => candidate.subject === subject);
  if (!row) throw new Error(`no stored message "${subject}"`);
  return facade.tl.messages.get(row.id, ADMIN);
}

describe('attachments on demand (Outlook)', () => {
  let facade: Facade | undefined;
  afterEach(async () => {
    await facade?.close();
    facade = undefined;
  });

  it('stores attachment ids and streams a file through /$value; refuses attached items and cloud links', async () => {
    facade = await startFacade();
    await facade.connect(ANA);
    const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.from(CANARY), Buffer.alloc(50_000, 3)]);
    await facade.ms.deliver({
      from: 'client@acme.com',
      to: ANA,
      subject: 'Signed proposal PRJ-1042',
      text: 'Signed, attached.',
      attachments: [
        { filename: 'proposal-signed.pdf', content: pdf, contentType: 'application/pdf' },
        { filename: 'Fwd: site visit', content: `Subject: site visit\r\n\r\n${CANARY}`, contentType: 'message/rfc822', kind: 'item' },
        { filename: 'plans.dwg', content: 'https://contoso.sharepoint.com/plans.dwg', kind: 'reference' },
      ],
    });
    const message = await storedMessage(facade, 'Signed proposal PRJ-1042');
    expect(message.attachments.map(({ name, inline }) => ({ name, inline }))).toEqual([
      { name: 'proposal-signed.pdf', inline: false },
      { name: 'Fwd: site visit', inline: false },
      { name: 'plans.dwg', inline: false },
    ]);
    const [file, item, reference] = message.attachments;
    expect(file?.id).toEqual(expect.any(String));

    const download = await facade.tl.messages.attachment(message.id, file!.id!, ADMIN);
    expect(download).toMatchObject({ filename: 'proposal-signed.pdf', contentType: 'application/pdf', size: pdf.length });
    const read = await consume(download.stream);
    expect(read.sha256).toBe(sha256(pdf));

    for (const refused of [item, reference]) {
      const error = (await facade.tl.messages.attachment(message.id, refused!.id!, ADMIN).catch((caught: unknown) => caught)) as ThreadlinkError;
      expect(error.code).toBe('ATTACHMENT_UNSUPPORTED');
    }
    expect(facade.ms.log.entries.filter((entry) => entry.operation === 'attachments.getValue')).toHaveLength(1);

    expect(JSON.stringify(await facade.store.raw.dump())).not.toContain(CANARY);
    expect(JSON.stringify(facade.logs)).not.toContain(CANARY);
    expect(JSON.stringify(facade.events)).not.toContain(CANARY);
  });

  it('streams a 20 MB attachment with bounded memory and stops one past the caller’s limit', async () => {
    facade = await startFacade();
    await facade.connect(ANA);
    const big = Buffer.alloc(20 * 1024 * 1024);
    for (let index = 0; index < big.length; index += 4096) big.writeUInt32BE(index, index);
    await facade.ms.deliver({
      from: 'client@acme.com',
      to: ANA,
      subject: 'Site survey scans',
      text: 'Scans attached.',
      attachments: [{ filename: 'scans.zip', content: big, contentType: 'application/zip' }],
    });
    const message = await storedMessage(facade, 'Site survey scans');
    const id = message.attachments[0]!.id!;

    const refused = (await facade.tl.messages
      .attachment(message.id, id, { ...ADMIN, maxBytes: 1024 * 1024 })
      .catch((caught: unknown) => caught)) as ThreadlinkError;
    expect(refused.code).toBe('PAYLOAD_TOO_LARGE');

    const download = await facade.tl.messages.attachment(message.id, id, ADMIN);
    expect(download.size).toBe(big.length);
    const read = await consume(download.stream, 16);
    expect(read.sha256).toBe(sha256(big));
    expect(read.chunks).toBeGreaterThan(20);
    console.info(
      `outlook 20 MiB attachment: ${read.chunks} chunks, peak live heap+arrayBuffers growth ${(read.peakGrowth / 1024 / 1024).toFixed(1)} MiB, peak RSS ${(read.peakRss / 1024 / 1024).toFixed(0)} MiB`,
    );
    expect(read.peakGrowth).toBeLessThan(8 * 1024 * 1024);

    // A limit under the real size but within Graph's announced slack fails the stream itself.
    const cut = await facade.tl.messages.attachment(message.id, id, { ...ADMIN, maxBytes: big.length - 1 }).catch((caught: unknown) => caught);
    if ('stream' in (cut as object)) {
      await expect(consume((cut as { stream: ReadableStream<Uint8Array> }).stream)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    } else {
      expect((cut as ThreadlinkError).code).toBe('PAYLOAD_TOO_LARGE');
    }
  });

  it('refuses attachments in metadata mode without calling Graph', async () => {
    facade = await startFacade({ provider: { mode: 'metadata' } });
    await facade.connect(ANA);
    await facade.ms.deliver({
      from: 'client@acme.com',
      to: ANA,
      subject: 'Metadata only',
      text: 'x',
      attachments: [{ filename: 'a.pdf', content: 'x', contentType: 'application/pdf' }],
    });
    const message = await storedMessage(facade, 'Metadata only');
    // Mail.ReadBasic cannot list attachments: none are stored, only the flag.
    expect(message.attachments).toEqual([]);
    const before = facade.ms.log.entries.length;
    const error = (await facade.tl.messages.attachment(message.id, 'AAMkAD-any', ADMIN).catch((caught: unknown) => caught)) as ThreadlinkError;
    expect(error.code).toBe('INSUFFICIENT_SCOPE');
    expect(facade.ms.log.entries.length).toBe(before);
  });
});
