// Body on demand: format=raw parsed with postal-mime, HTML sanitised, attachment names and sizes
// only. Nothing here is logged or kept; the caller gets it and it is gone.
import type { MessageBody, ProviderSession } from '@threadlink/core/provider';
import { sanitizeEmailHtml, ThreadlinkError } from '@threadlink/core/provider';
import PostalMime from 'postal-mime';
import { withGmail, type GmailContext } from './client.js';

function byteLength(content: ArrayBuffer | Uint8Array | string): number {
  return typeof content === 'string' ? Buffer.byteLength(content, 'utf8') : content.byteLength;
}

export async function fetchBody({ options, quota }: GmailContext, session: ProviderSession, providerMessageId: string): Promise<MessageBody> {
  if (options.mode === 'metadata') {
    // gmail.metadata cannot read format=raw/full; asking would only earn a 403 from Google.
    throw new ThreadlinkError('INSUFFICIENT_SCOPE', 'Message bodies need the full mode (gmail.readonly); this Gmail provider runs in metadata mode', {
      details: { provider: 'gmail', mode: 'metadata' },
    });
  }
  // A user is waiting on the body: it draws on the mailbox's quota ahead of back-fill.
  return withGmail(options, session, quota.lane(session, 'live'), async (client) => {
    const message = await client.call('messages.get', (request) =>
      client.api.users.messages.get({ userId: 'me', id: providerMessageId, format: 'raw', fields: 'raw' }, request),
    );
    if (!message.raw) throw new ThreadlinkError('PROVIDER_ERROR', 'Gmail returned no raw message', { details: { provider: 'gmail' } });
    const parsed = await PostalMime.parse(Buffer.from(message.raw, 'base64url'), { attachmentEncoding: 'arraybuffer' });
    return {
      html: parsed.html ? sanitizeEmailHtml(parsed.html) : null,
      text: parsed.text ?? null,
      attachments: parsed.attachments.map((attachment) => ({
        name: (attachment.filename ?? '').slice(0, 1024),
        mimeType: attachment.mimeType ? attachment.mimeType.slice(0, 255) : null,
        size: byteLength(attachment.content),
      })),
    };
  });
}
