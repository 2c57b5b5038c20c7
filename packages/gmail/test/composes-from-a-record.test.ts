import { createHash } from 'node:crypto';
import type { ThreadlinkError } from '@threadlink/core';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';

const ANA = 'ana@acme.test';
const ADMIN = { tenantId: 't1', as: 'admin' } as const;
const WORK_ORDER = { type: 'work_order', id: 'wo-311', label: 'WO-311' };
const CANARY = 'CANARY-2d8f-composed-body-must-never-be-kept';

describe('compose from a record (Gmail)', () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it('sends a new message once, shows it on the work order at once, and threads the client’s answer onto it', async () => {
    harness = await startHarness();
    const connection = await harness.connect(ANA);
    const sends = harness.google.log.count({ operation: 'messages.send' });
    const result = await harness.tl.messages.send({
      ...ADMIN,
      connectionId: connection.id,
      to: [{ address: 'client@bigco.test', name: 'Client Person' }],
      bcc: [{ address: 'archive@acme.test' }],
      subject: 'Visit for your work order',
      text: `We come on Tuesday. ${CANARY}`,
      attachments: [{ filename: 'checklist.txt', content: new TextEncoder().encode(`bring ${CANARY}`), contentType: 'text/plain' }],
      links: [WORK_ORDER],
    });
    expect(harness.google.log.count({ operation: 'messages.send' })).toBe(sends + 1);
    expect(result.message).toMatchObject({ direction: 'outbound', subject: 'Visit for your work order', hasAttachments: true });
    expect(result.links.map((link) => [link.record.id, link.rule])).toEqual([['wo-311', 'manual']]);

    // On the work order before any push came back.
    const before = await harness.tl.timeline.forRecord(WORK_ORDER, ADMIN);
    expect(before.threads.flatMap((thread) => thread.messages.map((message) => message.id))).toEqual([result.message!.id]);

    // The sent copy syncs back as the same row; the client answers in the thread.
    await harness.settle();
    const answer = await harness.google.deliver({
      to: ANA,
      from: 'client@bigco.test',
      subject: 'Re: Visit for your work order',
      text: 'Tuesday is fine.',
      inReplyTo: result.internetMessageId!,
      references: [result.internetMessageId!],
    });
    await harness.settle();
    const after = await harness.tl.timeline.forRecord(WORK_ORDER, ADMIN);
    const ids = after.threads.flatMap((thread) => thread.messages.map((message) => message.providerMessageId));
    expect(ids).toHaveLength(2);
    expect(ids).toContain(answer.id);
    expect(ids).toContain(result.providerMessageId);
    expect(harness.google.log.count({ operation: 'messages.send' })).toBe(sends + 1);

    expect(JSON.stringify(await harness.store.raw.dump())).not.toContain(CANARY);
    expect(harness.logger.lines.join('\n')).not.toContain(CANARY);
    expect(JSON.stringify(harness.events)).not.toContain(CANARY);
  });

  it('forwards a message with its original attachments, once, and the forward’s copy serves the same bytes', async () => {
    harness = await startHarness();
    const connection = await harness.connect(ANA);
    const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(40_000, 9)]);
    const delivered = await harness.google.deliver({
      to: ANA,
      from: 'client@bigco.test',
      subject: 'Signed proposal PRJ-1042',
      text: `Signed. ${CANARY}`,
      attachments: [{ filename: 'proposal-signed.pdf', content: pdf, contentType: 'application/pdf' }],
    });
    await harness.settle();
    const stored = await harness.store.getMessageByProviderId(connection.id, delivered.id);
    const sends = harness.google.log.count({ operation: 'messages.send' });
    const result = await harness.tl.messages.forward(stored!.id, { ...ADMIN, to: [{ address: 'partner@other.test' }], text: 'FYI, signed.' });
    expect(harness.google.log.count({ operation: 'messages.send' })).toBe(sends + 1);
    expect(result.message?.subject).toBe('Fwd: Signed proposal PRJ-1042');
    expect(result.message?.attachments.map((attachment) => attachment.name)).toEqual(['proposal-signed.pdf']);
    await harness.settle();

    const copy = await harness.store.getMessageByProviderId(connection.id, result.providerMessageId!);
    const download = await harness.tl.messages.attachment(copy!.id, copy!.attachments[0]!.id!, ADMIN);
    const hash = createHash('sha256');
    for await (const chunk of download.stream as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(pdf).digest('hex'));
    expect(JSON.stringify(await harness.store.raw.dump())).not.toContain(CANARY);
    expect(harness.logger.lines.join('\n')).not.toContain(CANARY);
  });

  it('refuses an empty message or one without recipients before calling Gmail', async () => {
    harness = await startHarness();
    const connection = await harness.connect(ANA);
    const sends = harness.google.log.count({ operation: 'messages.send' });
    const noBody = (await harness.tl.messages
      .send({ ...ADMIN, connectionId: connection.id, to: [{ address: 'client@bigco.test' }], subject: 'x' })
      .catch((caught: unknown) => caught)) as ThreadlinkError;
    expect(noBody.code).toBe('INVALID_INPUT');
    const nobody = (await harness.tl.messages
      .send({ ...ADMIN, connectionId: connection.id, subject: 'x', text: 'y' })
      .catch((caught: unknown) => caught)) as ThreadlinkError;
    expect(nobody.code).toBe('INVALID_INPUT');
    const foreign = (await harness.tl.messages
      .send({ tenantId: 't2', as: 'admin', connectionId: connection.id, to: [{ address: 'client@bigco.test' }], text: 'y' })
      .catch((caught: unknown) => caught)) as ThreadlinkError;
    expect(foreign.code).toBe('CONNECTION_NOT_FOUND');
    expect(harness.google.log.count({ operation: 'messages.send' })).toBe(sends);
  });
});
