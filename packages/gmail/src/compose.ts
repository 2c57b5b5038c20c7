// A new message (no thread) from the user's own address: MIME by nodemailer's MailComposer, sent
// by messages.send without a threadId, at most once (send.ts's sendRaw: sendOnce, and after a
// failure that may have gone out, a look at the SENT history for our Message-ID). Bcc travels in
// the MIME's Bcc header, which Gmail delivers and strips from what the To/Cc recipients receive.
import type { ComposeDraft, ProviderSession, SentMessage } from '@threadlink/core/provider';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import type { GmailContext } from './client.js';
import { format, sendRaw } from './send.js';

export async function compose(context: GmailContext, session: ProviderSession, draft: ComposeDraft): Promise<SentMessage> {
  const accountEmail = session.connection.accountEmail;
  const composer = new MailComposer({
    from: session.connection.displayName ? { name: session.connection.displayName, address: accountEmail } : accountEmail,
    ...(draft.to.length > 0 ? { to: draft.to.map(format) } : {}),
    ...(draft.cc.length > 0 ? { cc: draft.cc.map(format) } : {}),
    ...(draft.bcc.length > 0 ? { bcc: draft.bcc.map(format) } : {}),
    subject: draft.subject,
    ...(draft.text === undefined ? {} : { text: draft.text }),
    ...(draft.html === undefined ? {} : { html: draft.html }),
    ...(draft.attachments === undefined
      ? {}
      : {
          attachments: draft.attachments.map((attachment) => ({
            filename: attachment.filename,
            content: Buffer.from(attachment.content),
            ...(attachment.contentType === undefined ? {} : { contentType: attachment.contentType }),
          })),
        }),
  });
  const mime = composer.compile();
  // MailComposer leaves Bcc out of the built message unless told to keep it; Gmail needs it there.
  mime.keepBcc = true;
  const shape = { internetMessageId: mime.messageId(), inReplyTo: null, subject: draft.subject, to: draft.to.map((participant) => participant.address) };
  const raw = (await mime.build()).toString('base64url');
  return sendRaw(context, session, { raw, threadId: null, shape, what: 'message' });
}
