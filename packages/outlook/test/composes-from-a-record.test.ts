import { createHash } from 'node:crypto';
import type { ThreadlinkError } from '@threadlink/core';
import { afterEach, describe, expect, it } from 'vitest';
import { startFacade, type Facade } from './harness.js';

const ANA = 'ana@contoso.com';
const ADMIN = { tenantId: 't1', as: 'admin' } as const;
const WORK_ORDER = { type: 'work_order', id: 'wo-311', label: 'WO-311' };
const CANARY = 'CANARY-6a0e-composed-body-must-never-be-kept';

const count = (facade: Facade, operation: string) => facade.ms.log.entries.filter((entry) => entry.operation === operation).length;

describe('compose from a record (Outlook)', () => {
  let facade: Facade | undefined;
  afterEach(async () => {
    await facade?.close();
    facade = undefined;
  });

  it('sends a new message once through a draft, shows it on the work order at once, and threads the client’s answer onto it', async () => {
    facade = await startFacade();
    const connection = await facade.connect(ANA);
    const result = await facade.tl.messages.send({
      ...ADMIN,
      connectionId: connection.id,
      to: [{ address: 'client@acme.com', name: 'Carla Client' }],
      subject: 'Visit for your work order',
      html: `<p>We come on Tuesday. ${CANARY}</p>`,
      attachments: [{ filename: 'checklist.txt', content: new TextEncoder().encode(`bring ${CANARY}`), contentType: 'text/plain' }],
      links: [WORK_ORDER],
    });
    expect(count(facade, 'messages.send')).toBe(1);
    expect(result.message).toMatchObject({ direction: 'outbound', subject: 'Visit for your work order', hasAttachments: true });
    const before = await facade.tl.timeline.forRecord(WORK_ORDER, ADMIN);
    expect(before.threads.flatMap((thread) => thread.messages.map((message) => message.id))).toEqual([result.message!.id]);

    await facade.settle();
    const sentCopy = await facade.tl.messages.get(result.message!.id, ADMIN);
    await facade.ms.deliver({
      from: 'client@acme.com',
      to: ANA,
      subject: 'Re: Visit for your work order',
      text: 'Tuesday is fine.',
      ...(sentCopy.internetMessageId ? { inReplyTo: sentCopy.internetMessageId } : {}),
    });
    await facade.settle();
    const after = await facade.tl.timeline.forRecord(WORK_ORDER, ADMIN);
    const subjects = after.threads.flatMap((thread) => thread.messages.map((message) => message.subject));
    expect(subjects.sort()).toEqual(['Re: Visit for your work order', 'Visit for your work order']);
    expect(count(facade, 'messages.send')).toBe(1);

    const dump = JSON.stringify(await facade.store.raw.dump());
    expect(dump).not.toContain(CANARY);
    expect(JSON.stringify(facade.logs)).not.toContain(CANARY);
    expect(JSON.stringify(facade.events)).not.toContain(CANARY);
  });

  it('forwards a message with its original attachments through createForward, once, and the forward’s copy serves the same bytes', async () => {
    facade = await startFacade();
    await facade.connect(ANA);
    const pdf = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(40_000, 9)]);
    await facade.ms.deliver({
      from: 'client@acme.com',
      to: ANA,
      subject: 'Signed proposal PRJ-1042',
      text: `Signed. ${CANARY}`,
      attachments: [{ filename: 'proposal-signed.pdf', content: pdf, contentType: 'application/pdf' }],
    });
    await facade.settle();
    const rows = (await facade.store.raw.dump()).messages as Array<{ id: string; subject: string }>;
    const original = rows.find((row) => row.subject === 'Signed proposal PRJ-1042')!;
    const result = await facade.tl.messages.forward(original.id, { ...ADMIN, to: [{ address: 'partner@other.test' }], text: 'FYI, signed.' });
    expect(count(facade, 'messages.createForward')).toBe(1);
    expect(count(facade, 'messages.send')).toBe(1);
    expect(result.message?.attachments.map((attachment) => attachment.name)).toEqual(['proposal-signed.pdf']);
    await facade.settle();

    const copy = await facade.tl.messages.get(result.message!.id, ADMIN);
    expect(copy.folder).toBe('sent');
    const download = await facade.tl.messages.attachment(copy.id, copy.attachments[0]!.id!, ADMIN);
    const hash = createHash('sha256');
    for await (const chunk of download.stream as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
    expect(hash.digest('hex')).toBe(createHash('sha256').update(pdf).digest('hex'));
    expect(JSON.stringify(await facade.store.raw.dump())).not.toContain(CANARY);
  });

  it('with Mail.Send alone sends through /sendMail once and leaves the row to delta; a lost answer is SEND_UNCONFIRMED', async () => {
    facade = await startFacade({ provider: { mode: 'metadata' } });
    const connection = await facade.connect(ANA);
    const result = await facade.tl.messages.send({
      ...ADMIN,
      connectionId: connection.id,
      to: [{ address: 'client@acme.com' }],
      subject: 'Quote',
      text: 'Attached soon.',
    });
    expect(result.message).toBeNull();
    expect(count(facade, 'sendMail')).toBe(1);
    await facade.settle();

    facade.ms.failNext('sendMail', { status: 503 });
    const error = (await facade.tl.messages
      .send({ ...ADMIN, connectionId: connection.id, to: [{ address: 'client@acme.com' }], subject: 'Quote 2', text: 'x' })
      .catch((caught: unknown) => caught)) as ThreadlinkError;
    expect(error.code).toBe('SEND_UNCONFIRMED');
    expect(count(facade, 'sendMail')).toBe(2);
  });
});
