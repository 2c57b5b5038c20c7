// One MailComposer for every message the adapter sends (reply, new message, forward): the user's
// own address in From, Bcc kept in the built message (Gmail delivers it and strips it from what
// To/Cc receive), and the files as given. Returns the MIME bytes and the Message-ID written.
import type { Participant, ProviderSession } from '@threadlink/core/provider';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';

interface OutgoingFile {
  filename: string;
  content: Uint8Array;
  contentType?: string | undefined;
  /** Content-ID of an inline part (a forward keeps the original's). */
  cid?: string | undefined;
}

export interface OutgoingMime {
  to: Participant[];
  cc?: Participant[];
  bcc?: Participant[];
  subject: string;
  inReplyTo?: string | null;
  references?: string[];
  text?: string | undefined;
  html?: string | undefined;
  attachments?: readonly OutgoingFile[] | undefined;
}

function format(participant: Participant): string | { name: string; address: string } {
  return participant.name ? { name: participant.name, address: participant.address } : participant.address;
}

const listed = (name: 'to' | 'cc' | 'bcc', participants: Participant[] | undefined) =>
  participants && participants.length > 0 ? { [name]: participants.map(format) } : {};

export async function buildMime(session: ProviderSession, message: OutgoingMime): Promise<{ mime: Buffer; messageId: string }> {
  const accountEmail = session.connection.accountEmail;
  const references = message.references ?? [];
  const composer = new MailComposer({
    from: session.connection.displayName ? { name: session.connection.displayName, address: accountEmail } : accountEmail,
    ...listed('to', message.to),
    ...listed('cc', message.cc),
    ...listed('bcc', message.bcc),
    subject: message.subject,
    ...(message.inReplyTo ? { inReplyTo: message.inReplyTo } : {}),
    ...(references.length > 0 ? { references } : {}),
    ...(message.text === undefined ? {} : { text: message.text }),
    ...(message.html === undefined ? {} : { html: message.html }),
    ...(message.attachments === undefined
      ? {}
      : {
          attachments: message.attachments.map((attachment) => ({
            filename: attachment.filename,
            // A view over the caller's bytes, not a copy.
            content: Buffer.from(attachment.content.buffer, attachment.content.byteOffset, attachment.content.byteLength),
            ...(attachment.contentType === undefined ? {} : { contentType: attachment.contentType }),
            ...(attachment.cid === undefined ? {} : { cid: attachment.cid }),
          })),
        }),
  });
  const built = composer.compile();
  // MailComposer leaves Bcc out of the built message unless told to keep it; Gmail needs it there.
  built.keepBcc = true;
  return { mime: await built.build(), messageId: built.messageId() };
}
