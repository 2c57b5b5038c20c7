// Body on demand: the message body (as HTML and as Graph's own text rendering) and attachment
// names/sizes in one $batch round trip. The result goes to the caller and is dropped: it is
// never stored, logged or emitted. Needs Mail.Read — Mail.ReadBasic cannot read bodies.
import { sanitizeEmailHtml, ThreadlinkError, type MessageBody } from '@threadlink/core';
import type { BatchResponse, GraphSession } from './client.js';
import { ATTACHMENT_SELECT, toAttachmentMeta } from './metadata.js';

function failure(response: BatchResponse | undefined, what: string): ThreadlinkError {
  const status = response?.status ?? 0;
  const details = { provider: 'outlook', status };
  if (status === 404) return new ThreadlinkError('NOT_FOUND', `The message is gone (${what})`, { details });
  if (status === 403) return new ThreadlinkError('INSUFFICIENT_SCOPE', `Graph refused ${what}: Mail.Read is required`, { details });
  if (status === 401) return new ThreadlinkError('AUTH_REVOKED', `Graph refused ${what}: token rejected`, { details });
  return new ThreadlinkError(status >= 500 || status === 0 ? 'PROVIDER_UNAVAILABLE' : 'PROVIDER_ERROR', `Graph answered ${status} for ${what}`, { details });
}

interface GraphBody {
  body?: { contentType?: string; content?: string } | null;
}

export async function fetchBody(graph: GraphSession, providerMessageId: string): Promise<MessageBody> {
  const path = `/me/messages/${encodeURIComponent(providerMessageId)}`;
  const responses = await graph.batch([
    { id: 'html', method: 'GET', url: `${path}?$select=body`, headers: { Prefer: 'outlook.body-content-type="html"' } },
    { id: 'text', method: 'GET', url: `${path}?$select=body`, headers: { Prefer: 'outlook.body-content-type="text"' } },
    { id: 'attachments', method: 'GET', url: `${path}/attachments?$select=${ATTACHMENT_SELECT}` },
  ]);
  const htmlResponse = responses.get('html');
  const textResponse = responses.get('text');
  const attachmentsResponse = responses.get('attachments');
  if (htmlResponse?.status !== 200) throw failure(htmlResponse, 'the message body');
  if (textResponse?.status !== 200) throw failure(textResponse, 'the message body');
  if (attachmentsResponse?.status !== 200) throw failure(attachmentsResponse, 'the attachment list');

  const html = (htmlResponse.body as GraphBody).body;
  const text = (textResponse.body as GraphBody).body;
  const attachments = ((attachmentsResponse.body as { value?: unknown[] }).value ?? []).map(toAttachmentMeta).filter((entry) => entry !== null);
  return {
    html: html?.contentType?.toLowerCase() === 'html' && typeof html.content === 'string' ? sanitizeEmailHtml(html.content) : null,
    text: text?.contentType?.toLowerCase() === 'text' && typeof text.content === 'string' ? text.content : null,
    attachments,
  };
}
