// An attachment on demand: its properties (never `contentBytes`), then `/$value`, which Graph
// answers with the raw bytes for a file attachment of any size (the 3 MB / 4 MB limits concern
// uploads and `contentBytes` in JSON, not this download). The Response body is handed over as it
// streams: nothing is buffered whole or kept. Item attachments (an attached mail, event or
// contact: `$value` is MIME, not a file) and reference attachments (a cloud link: `$value` is
// 405) are refused with ATTACHMENT_UNSUPPORTED. Needs Mail.Read, so metadata mode refuses.
import { ThreadlinkError, type AttachmentContent, type FetchAttachmentOptions, type ProviderSession } from '@threadlink/core/provider';
import { graphFor, type OutlookContext } from './client.js';

const FILE_ATTACHMENT = '#microsoft.graph.fileattachment';
/** How much more than the file's bytes Graph's `size` may count (name, type and other properties). */
const STORED_SIZE_SLACK = 64 * 1024;

interface GraphAttachment {
  '@odata.type'?: unknown;
  name?: unknown;
  contentType?: unknown;
  size?: unknown;
}

export async function fetchAttachment(
  context: OutlookContext,
  session: ProviderSession,
  providerMessageId: string,
  attachmentId: string,
  { maxBytes }: FetchAttachmentOptions,
): Promise<AttachmentContent> {
  if (context.options.mode === 'metadata') {
    throw new ThreadlinkError('INSUFFICIENT_SCOPE', 'Outlook metadata mode holds Mail.ReadBasic only, which cannot read attachments', {
      details: { provider: 'outlook', mode: 'metadata' },
    });
  }
  const graph = graphFor(context, session);
  const path = `${graph.mailboxPath}/messages/${encodeURIComponent(providerMessageId)}/attachments/${encodeURIComponent(attachmentId)}`;
  const properties = await graph.get<GraphAttachment>(`${path}?$select=name,contentType,size`);
  const kind = typeof properties['@odata.type'] === 'string' ? properties['@odata.type'].toLowerCase() : '';
  if (kind !== FILE_ATTACHMENT) {
    throw new ThreadlinkError('ATTACHMENT_UNSUPPORTED', 'Only file attachments can be downloaded; this one is an attached item or a cloud link', {
      details: { provider: 'outlook', kind: kind.replace(/^#microsoft\.graph\./, '') || null },
    });
  }
  // Graph's `size` counts the attachment as stored, a little over the file's bytes (its properties
  // too): a limit check with that slack, never announced as the file's size. Core's byte count
  // while streaming is the exact check.
  if (typeof properties.size === 'number' && properties.size > maxBytes + STORED_SIZE_SLACK) {
    throw new ThreadlinkError('PAYLOAD_TOO_LARGE', `The attachment is about ${properties.size} bytes, over the ${maxBytes}-byte limit`, {
      details: { provider: 'outlook', size: properties.size, maxBytes },
    });
  }
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  session.signal?.addEventListener('abort', onAbort, { once: true });
  const response = await graph.getStream(`${path}/$value`, { signal: abort.signal });
  const body = response.body;
  if (!body) throw new ThreadlinkError('PROVIDER_ERROR', 'Graph answered an attachment download without a body', { details: { provider: 'outlook' } });
  const declared = response.headers.get('content-length');
  const length = declared === null ? Number.NaN : Number(declared);
  return {
    stream: body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        flush: () => session.signal?.removeEventListener('abort', onAbort),
      }),
    ),
    filename: typeof properties.name === 'string' ? properties.name : null,
    contentType: typeof properties.contentType === 'string' ? properties.contentType : response.headers.get('content-type'),
    // Content-Length is the file's bytes exactly (no content coding is asked for).
    size: Number.isSafeInteger(length) && length >= 0 && response.headers.get('content-encoding') === null ? length : null,
  };
}
