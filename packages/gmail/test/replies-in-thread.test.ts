import PostalMime from 'postal-mime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';

const ANA = 'ana@acme.test';

describe('replying from the CRM', () => {
  let harness: Harness;
  let connectionId: string;
  beforeAll(async () => {
    harness = await startHarness();
    connectionId = (await harness.connect(ANA)).id;
  });
  afterAll(async () => {
    await harness.close();
  });

  async function lastSent() {
    const raw = harness.google.sentRaw(ANA).at(-1);
    expect(raw).toBeDefined();
    return PostalMime.parse(raw!);
  }

  it('sends from the account address with In-Reply-To, References, Re: subject and threadId', async () => {
    const original = await harness.google.deliver({
      to: ANA,
      cc: 'pm@bigco.test',
      from: 'Client Person <client@bigco.test>',
      subject: 'Change request – PRJ-1042',
      text: 'Can we move the deadline?',
      references: ['<kickoff@bigco.test>', '<followup@bigco.test>'],
      inReplyTo: '<followup@bigco.test>',
    });
    await harness.settle();
    const stored = await harness.store.getMessageByProviderId(connectionId, original.id);

    // Neither text nor html: core refuses it before the adapter is called (MailProvider.send gets a validated draft).
    const requests = harness.google.log.entries.length;
    await expect(harness.tl.messages.reply(stored!.id, { tenantId: 't1', as: 'admin' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(harness.google.log.entries.length).toBe(requests);

    const reply = await harness.tl.messages.reply(stored!.id, { tenantId: 't1', as: 'admin', text: 'Yes, Friday works.' });

    const sent = await lastSent();
    expect(sent.from?.address).toBe(ANA);
    expect(sent.to?.map((address) => address.address)).toEqual(['client@bigco.test']);
    expect(sent.cc ?? []).toEqual([]);
    expect(sent.subject).toBe('Re: Change request – PRJ-1042');
    expect(sent.inReplyTo).toBe(original.messageId);
    expect(sent.references?.split(/\s+/)).toEqual(['<kickoff@bigco.test>', '<followup@bigco.test>', original.messageId]);
    expect(sent.text?.trim()).toBe('Yes, Friday works.');

    // Gmail put it in the same thread, and so does the CRM.
    const sentCopy = harness.google.messages(ANA).find((message) => message.id === reply.providerMessageId);
    expect(sentCopy?.threadId).toBe(original.threadId);
    expect(sentCopy?.labelIds).toContain('SENT');
    expect(reply).toMatchObject({ threadId: stored!.threadId, direction: 'outbound', folder: 'sent', inReplyTo: original.messageId });
    await harness.settle();
    const thread = await harness.tl.timeline.thread(stored!.threadId, { tenantId: 't1', as: 'admin' });
    expect(thread.map((message) => message.providerMessageId)).toEqual([original.id, reply.providerMessageId]);
    const project = await harness.tl.timeline.forRecord({ type: 'project', id: 'p-1042' }, { tenantId: 't1', as: 'admin' });
    expect(project.threads.find((entry) => entry.threadId === stored!.threadId)?.messages).toHaveLength(2);
  });

  it('answers Reply-To, keeps an existing Re: prefix and copies everyone on reply-all except the user', async () => {
    const original = await harness.google.deliver({
      to: [ANA, 'colleague@acme.test'],
      cc: 'pm@bigco.test',
      from: 'client@bigco.test',
      replyTo: 'Project Desk <desk@bigco.test>',
      subject: 'RE: Invoice 77',
    });
    await harness.settle();
    const stored = await harness.store.getMessageByProviderId(connectionId, original.id);
    await harness.tl.messages.reply(stored!.id, { tenantId: 't1', as: 'admin', text: 'Paid.', replyAll: true });

    const sent = await lastSent();
    expect(sent.subject).toBe('RE: Invoice 77');
    expect(sent.to?.map((address) => address.address)).toEqual(['desk@bigco.test']);
    expect(sent.cc?.map((address) => address.address).sort()).toEqual(['colleague@acme.test', 'pm@bigco.test']);
    expect(sent.from?.address).toBe(ANA);
  });
});
