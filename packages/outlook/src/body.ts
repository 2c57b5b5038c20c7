// Body on demand: the message body (as HTML and as Graph's own text rendering) and attachment
// names/sizes in one $batch round trip. The result goes to the caller and is dropped: it is
// never stored, logged or emitted. Needs Mail.Read — Mail.ReadBasic cannot read bodies.
import { sanitizeEmailHtml, ThreadlinkError, type MessageBody, type ProviderSession } from '@threadlink/core/provider';
import { graphFor, type OutlookContext } from './client.js';
import { batchAnswerError } from './errors.js';
import { ATTACHMENT_SELECT, toAttachmentMeta } from './metadata.js';

interface GraphBody {
  body?: { contentType?: string; content?: string } | null;
}

export async function fetchBody(context: OutlookContext, session: ProviderSession, providerMessageId: string): Promise<MessageBody> {
  if (context.options.mode === 'metadata') {
    // Mail.ReadBasic cannot read bodies; asking would only earn a 403 from Graph.
    throw new ThreadlinkError('INSUFFICIENT_SCOPE', 'Outlook metadata mode holds Mail.ReadBasic only, which cannot read bodies', {
      details: { provider: 'outlook' },
    });
  }
  const graph = graphFor(context, session);
  const path = `${graph.mailboxPath}/messages/${encodeURIComponent(providerMessageId)}`;
  const responses = await graph.batch([
    { id: 'html', method: 'GET', url: `${path}?$select=body`, headers: { Prefer: 'outlook.body-content-type="html"' } },
    { id: 'text', method: 'GET', url: `${path}?$select=body`, headers: { Prefer: 'outlook.body-content-type="text"' } },
    { id: 'attachments', method: 'GET', url: `${path}/attachments?$select=${ATTACHMENT_SELECT}` },
  ]);
  const htmlResponse = responses.get('html');
  const textResponse = responses.get('text');
  const attachmentsResponse = responses.get('attachments');
  if (htmlResponse?.status !== 200) throw batchAnswerError(htmlResponse?.status ?? 0, 'the message body');
  if (textResponse?.status !== 200) throw batchAnswerError(textResponse?.status ?? 0, 'the message body');
  if (attachmentsResponse?.status !== 200) throw batchAnswerError(attachmentsResponse?.status ?? 0, 'the attachment list');

  const html = (htmlResponse.body as GraphBody).body;
  const text = (textResponse.body as GraphBody).body;
  const attachments = ((attachmentsResponse.body as { value?: unknown[] }).value ?? []).map(toAttachmentMeta).filter((entry) => entry !== null);
  return {
    html: html?.contentType?.toLowerCase() === 'html' && typeof html.content === 'string' ? sanitizeEmailHtml(html.content) : null,
    text: text?.contentType?.toLowerCase() === 'text' && typeof text.content === 'string' ? text.content : null,
    attachments,
  };
}
