import { GraphError, ResponseType } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGraphEmulator, type GraphEmulator } from '../src/graph/index.js';
import { connectMailbox, expiresIn, relativeLink, startWebhookReceiver } from './graph-clients.js';

let emulator: GraphEmulator;

beforeAll(async () => {
  emulator = await startGraphEmulator();
});
afterAll(async () => {
  await emulator.close();
});

const connect = (name: string, scopes?: string[]) => connectMailbox(emulator, name, 3, scopes);

const IMMUTABLE = 'IdType="ImmutableId"';

interface Collection {
  value: Array<Record<string, unknown>>;
}

describe('replying and sending', () => {
  it('saves a reply in Sent Items in the same conversation, with threading headers, and delivers it', async () => {
    const ann = await connect('ann');
    const bob = await connect('bob');
    const original = await emulator.deliver({ from: `Bob <${bob.email}>`, to: ann.email, subject: 'Project 2024-117', text: 'Can you confirm?' });
    const bobSentCopy = original.copies.find((copy) => copy.mailbox === bob.email);
    expect(bobSentCopy?.folder).toBe('sentitems');

    await ann.client.api(`/me/messages/${original.id}/reply`).post({ comment: 'Confirmed.' });
    expect(emulator.log.entries.at(-1)).toMatchObject({ operation: 'messages.reply', status: 202, mailbox: ann.email });

    const [sent] = emulator.sent(ann.email);
    expect(sent).toMatchObject({
      subject: 'RE: Project 2024-117',
      folder: 'sentitems',
      conversationId: original.conversationId,
      inReplyTo: original.internetMessageId,
      references: [original.internetMessageId],
      to: [{ address: bob.email }],
    });
    expect(sent?.body.content).toContain('Confirmed.');

    // Graph gives the Sent Items copy no internetMessageHeaders; the MIME still has the threading headers.
    const sentItems = (await ann.client
      .api('/me/mailFolders/sentitems/messages')
      .select(['subject', 'conversationId', 'internetMessageHeaders', 'internetMessageId'])
      .get()) as Collection;
    expect(sentItems.value).toHaveLength(1);
    expect(sentItems.value[0]).toMatchObject({ subject: 'RE: Project 2024-117', conversationId: original.conversationId });
    expect(sentItems.value[0]).not.toHaveProperty('internetMessageHeaders');
    const mime = (await ann.client
      .api(`/me/messages/${String(sentItems.value[0]?.id)}/$value`)
      .responseType(ResponseType.TEXT)
      .get()) as string;
    expect(mime).toContain(`In-Reply-To: ${original.internetMessageId}`);
    expect(mime).toContain(`References: ${original.internetMessageId}`);

    // Bob receives it threaded into his own copy's conversation.
    const inbox = (await bob.client.api('/me/mailFolders/inbox/messages').select(['subject', 'conversationId', 'internetMessageHeaders']).get()) as Collection;
    expect(inbox.value).toHaveLength(1);
    expect(inbox.value[0]).toMatchObject({ subject: 'RE: Project 2024-117', conversationId: bobSentCopy?.conversationId });
    expect(inbox.value[0]?.internetMessageHeaders).toEqual(
      expect.arrayContaining([
        { name: 'In-Reply-To', value: original.internetMessageId },
        { name: 'References', value: original.internetMessageId },
      ]),
    );
  });

  it('sends a createReply draft, moving it to Sent Items under the same immutable id', async () => {
    const ann = await connect('ann');
    const bob = await connect('bob');
    const original = await emulator.deliver({ from: bob.email, to: ann.email, subject: 'Invoice', text: 'Attached' });
    const immutable = 'IdType="ImmutableId"';

    const draft = (await ann.client.api(`/me/messages/${original.id}/createReply`).header('Prefer', immutable).post({})) as Record<string, unknown>;
    expect(draft).toMatchObject({ isDraft: true, subject: 'RE: Invoice', conversationId: original.conversationId });
    expect(draft.toRecipients).toEqual([{ emailAddress: { name: bob.email, address: bob.email } }]);
    const draftId = String(draft.id);

    await ann.client
      .api(`/me/messages/${draftId}`)
      .header('Prefer', immutable)
      .patch({ body: { contentType: 'text', content: 'Paid today.' } });
    await ann.client.api(`/me/messages/${draftId}/send`).header('Prefer', immutable).post(null);

    const sentItems = await ann.client.api('/me/mailFolders/sentitems').get();
    const after = (await ann.client
      .api(`/me/messages/${draftId}`)
      .header('Prefer', immutable)
      .select(['isDraft', 'parentFolderId', 'conversationId'])
      .get()) as Record<string, unknown>;
    expect(after).toMatchObject({ id: draftId, isDraft: false, parentFolderId: (sentItems as { id: string }).id, conversationId: original.conversationId });
    expect(emulator.sent(ann.email).map((message) => message.immutableId)).toEqual([draftId]);
    expect(
      emulator
        .messages(bob.email)
        .filter((message) => message.folder === 'inbox')
        .map((message) => message.subject),
    ).toEqual(['RE: Invoice']);
  });

  it('sends new mail with sendMail, refusing threading headers it cannot set', async () => {
    const ann = await connect('ann');
    const carl = await connect('carl');
    const refused = (await ann.client
      .api('/me/sendMail')
      .post({
        message: {
          subject: 'Hi',
          toRecipients: [{ emailAddress: { address: carl.email } }],
          internetMessageHeaders: [{ name: 'In-Reply-To', value: '<x@y>' }],
        },
      })
      .catch((error: unknown) => error)) as GraphError;
    expect(refused.statusCode).toBe(400);
    expect(refused.code).toBe('InvalidInternetMessageHeader');

    const empty = (await ann.client
      .api('/me/sendMail')
      .post({ message: { subject: 'Nobody' } })
      .catch((error: unknown) => error)) as GraphError;
    expect(empty.code).toBe('ErrorInvalidRecipients');

    await ann.client.api('/me/sendMail').post({
      message: {
        subject: 'Proposal',
        body: { contentType: 'html', content: '<p>See attached</p>' },
        toRecipients: [{ emailAddress: { address: carl.email, name: 'Carl' } }],
        internetMessageHeaders: [{ name: 'X-Threadlink-Draft', value: 'd-1' }],
        attachments: [
          {
            '@odata.type': '#microsoft.graph.fileAttachment',
            name: 'proposal.pdf',
            contentType: 'application/pdf',
            contentBytes: Buffer.from('pdf').toString('base64'),
          },
        ],
      },
      saveToSentItems: true,
    });
    const received = (await carl.client
      .api('/me/mailFolders/inbox/messages')
      .select(['subject', 'hasAttachments', 'internetMessageHeaders', 'from'])
      .get()) as Collection;
    expect(received.value[0]).toMatchObject({ subject: 'Proposal', hasAttachments: true, from: { emailAddress: { address: ann.email } } });
    expect(received.value[0]?.internetMessageHeaders).toEqual(expect.arrayContaining([{ name: 'X-Threadlink-Draft', value: 'd-1' }]));
    expect(emulator.messages(ann.email).map((message) => message.folder)).toEqual(['sentitems']);

    await ann.client
      .api('/me/sendMail')
      .post({ message: { subject: 'Unsaved', toRecipients: [{ emailAddress: { address: 'x@fabrikam.test' } }] }, saveToSentItems: false });
    expect(emulator.sent(ann.email).map((message) => message.subject)).toEqual(['Proposal', 'Unsaved']);
    expect(emulator.messages(ann.email)).toHaveLength(1);
  });
  it('keeps a sent draft findable only by the immutable id the draft was created with', async () => {
    const ann = await connect('ann');
    const bob = await connect('bob');
    const original = await emulator.deliver({ from: bob.email, to: ann.email, subject: 'Quote', text: 'Price?' });

    // Without the preference the draft's id is its REST id, which Exchange replaces when the item moves.
    const restDraft = (await ann.client.api(`/me/messages/${original.id}/createReply`).post({ comment: 'Default ids' })) as { id: string };
    const immutableDraft = (await ann.client.api(`/me/messages/${original.id}/createReply`).header('Prefer', IMMUTABLE).post({ comment: 'Immutable ids' })) as {
      id: string;
    };
    const [restCopy, immutableCopy] = [restDraft.id, immutableDraft.id].map((id) =>
      emulator.messages(ann.email).find((message) => message.id === id || message.immutableId === id),
    );
    expect(restCopy?.id).toBe(restDraft.id);
    expect(restCopy?.immutableId).not.toBe(restDraft.id);
    expect(immutableCopy?.immutableId).toBe(immutableDraft.id);
    expect(immutableCopy?.id).not.toBe(immutableDraft.id);

    await ann.client.api(`/me/messages/${restDraft.id}/send`).post(null);
    await ann.client.api(`/me/messages/${immutableDraft.id}/send`).header('Prefer', IMMUTABLE).post(null);

    const lost = (await ann.client
      .api(`/me/messages/${restDraft.id}`)
      .get()
      .catch((error: unknown) => error)) as GraphError;
    expect(lost.statusCode).toBe(404);
    const sentItems = (await ann.client.api('/me/mailFolders/sentitems').get()) as { id: string };
    const found = (await ann.client
      .api(`/me/messages/${immutableDraft.id}`)
      .header('Prefer', IMMUTABLE)
      .select(['isDraft', 'parentFolderId', 'body'])
      .get()) as Record<string, unknown>;
    expect(found).toMatchObject({ id: immutableDraft.id, isDraft: false, parentFolderId: sentItems.id });
    expect(JSON.stringify(found.body)).toContain('Immutable ids');
    expect(emulator.messages(ann.email).filter((message) => message.folder === 'drafts')).toEqual([]);
  });

  it('holds sent mail in the Outbox until released, then files it in Sent Items under its immutable id and notifies', async () => {
    const ann = await connect('ann');
    const bob = await connect('bob');
    const receiver = await startWebhookReceiver();
    try {
      const original = await emulator.deliver({ from: bob.email, to: ann.email, subject: 'Schedule', text: 'When?' });
      await ann.client
        .api('/subscriptions')
        .header('Prefer', IMMUTABLE)
        .post({
          changeType: 'created,updated,deleted',
          notificationUrl: receiver.url,
          lifecycleNotificationUrl: receiver.lifecycleUrl,
          resource: "/me/mailFolders('sentitems')/messages",
          expirationDateTime: expiresIn(60),
          clientState: 'sent-state',
        });
      const start = (await ann.client.api('/me/mailFolders/sentitems/messages/delta').header('Prefer', IMMUTABLE).select('subject').get()) as {
        '@odata.deltaLink': string;
      };

      emulator.faults.holdOutbox = true;
      const draft = (await ann.client.api(`/me/messages/${original.id}/createReply`).header('Prefer', IMMUTABLE).post({ comment: 'Tomorrow.' })) as {
        id: string;
      };
      await ann.client.api(`/me/messages/${draft.id}/send`).header('Prefer', IMMUTABLE).post(null);

      const outbox = (await ann.client.api('/me/mailFolders/outbox').get()) as { id: string };
      const inTransit = (await ann.client.api(`/me/messages/${draft.id}`).header('Prefer', IMMUTABLE).select(['isDraft', 'parentFolderId']).get()) as Record<
        string,
        unknown
      >;
      expect(inTransit).toMatchObject({ isDraft: false, parentFolderId: outbox.id });
      expect(emulator.messages(ann.email).filter((message) => message.folder === 'sentitems' || message.folder === 'drafts')).toEqual([]);
      expect(emulator.messages(bob.email).filter((message) => message.folder === 'inbox')).toEqual([]);
      expect(emulator.sent(ann.email)).toEqual([]);
      await emulator.flushNotifications();
      expect(receiver.notifications).toEqual([]);

      emulator.releaseOutbox();
      await emulator.flushNotifications();
      const notified = receiver.notifications.flatMap((notification) => notification.body.value);
      expect(notified).toEqual([expect.objectContaining({ changeType: 'created', resourceData: expect.objectContaining({ id: draft.id }) })]);
      const changes = (await ann.client.api(relativeLink(emulator, start['@odata.deltaLink'])).header('Prefer', IMMUTABLE).get()) as {
        value: Array<Record<string, unknown>>;
      };
      expect(changes.value).toEqual([expect.objectContaining({ id: draft.id, subject: 'RE: Schedule' })]);
      expect(emulator.sent(ann.email).map((message) => message.immutableId)).toEqual([draft.id]);
      expect(
        emulator
          .messages(bob.email)
          .filter((message) => message.folder === 'inbox')
          .map((message) => message.subject),
      ).toEqual(['RE: Schedule']);
    } finally {
      emulator.faults.holdOutbox = false;
      emulator.releaseOutbox();
      await receiver.close();
    }
  });

  it('does not send a draft deleted from the Outbox before transport', async () => {
    const ann = await connect('ann');
    const bob = await connect('bob');
    const original = await emulator.deliver({ from: bob.email, to: ann.email, subject: 'Cancel me', text: '?' });
    emulator.faults.holdOutbox = true;
    try {
      const draft = (await ann.client.api(`/me/messages/${original.id}/createReply`).header('Prefer', IMMUTABLE).post({ comment: 'Oops' })) as { id: string };
      await ann.client.api(`/me/messages/${draft.id}/send`).header('Prefer', IMMUTABLE).post(null);
      await ann.client.api(`/me/messages/${draft.id}`).header('Prefer', IMMUTABLE).delete();
      emulator.releaseOutbox();
    } finally {
      emulator.faults.holdOutbox = false;
    }
    expect(emulator.sent(ann.email)).toEqual([]);
    expect(emulator.messages(bob.email).filter((message) => message.folder === 'inbox')).toEqual([]);
  });

  it('needs Mail.ReadWrite for drafts, while Mail.Send alone replies and sends', async () => {
    const sendOnly = [
      'https://graph.microsoft.com/User.Read',
      'https://graph.microsoft.com/Mail.ReadBasic',
      'https://graph.microsoft.com/Mail.Send',
      'offline_access',
    ];
    const ann = await connect('ann', sendOnly);
    const bob = await connect('bob');
    const original = await emulator.deliver({ from: bob.email, to: ann.email, subject: 'Scopes', text: '?' });
    // Started one at a time: a refusal that arrived before its turn in the loop would otherwise be an
    // unhandled rejection (seen on a loaded machine).
    for (const attempt of [
      () => ann.client.api(`/me/messages/${original.id}/createReply`).post({ comment: 'x' }),
      () => ann.client.api(`/me/messages/${original.id}/createReplyAll`).post({ comment: 'x' }),
      () => ann.client.api('/me/messages').post({ subject: 'draft', toRecipients: [{ emailAddress: { address: bob.email } }] }),
    ]) {
      const refused = (await attempt().catch((error: unknown) => error)) as GraphError;
      expect(refused.statusCode).toBe(403);
    }
    expect(emulator.messages(ann.email).filter((message) => message.folder === 'drafts')).toEqual([]);
    await ann.client.api(`/me/messages/${original.id}/reply`).post({ comment: 'Through /reply.' });
    expect(emulator.sent(ann.email).map((message) => message.subject)).toEqual(['RE: Scopes']);
  });

  it('failAfter replies, then answers 500 — or drops the connection; failNext refuses before anything happens', async () => {
    const ann = await connectMailbox(emulator, 'ann', 0);
    const bob = await connect('bob');
    const original = await emulator.deliver({ from: bob.email, to: ann.email, subject: 'Lost answers', text: '?' });
    const replies = (): number => emulator.messages(bob.email).filter((message) => message.subject === 'RE: Lost answers').length;
    const attempt = (): Promise<unknown> =>
      ann.client
        .api(`/me/messages/${original.id}/reply`)
        .post({ comment: 'x' })
        .catch((error: unknown) => error);

    emulator.failAfter('messages.reply');
    const answered = (await attempt()) as GraphError;
    expect([answered.statusCode, answered.code]).toEqual([500, 'InternalServerError']);
    expect(replies()).toBe(1);

    emulator.failAfter('messages.reply', { status: 'drop' });
    const dropped = (await attempt()) as GraphError;
    // The client reports a connection that closed without an answer as status -1.
    expect(dropped.statusCode).toBe(-1);
    expect(replies()).toBe(2);
    expect(emulator.log.entries.filter((entry) => entry.operation === 'messages.reply' && entry.mailbox === ann.email).map((entry) => entry.status)).toEqual([
      500, 0,
    ]);

    emulator.failNext('messages.reply', { status: 503 });
    const refused = (await attempt()) as GraphError;
    expect([refused.statusCode, refused.code, refused.headers?.get('retry-after')]).toEqual([503, 'serviceNotAvailable', '1']);
    emulator.failNext('messages.reply', { status: 'drop' });
    expect(((await attempt()) as GraphError).statusCode).toBe(-1);
    expect(replies()).toBe(2);
    expect(await attempt()).not.toBeInstanceOf(GraphError);
    expect(replies()).toBe(3);
  });
});
