// An attachment on demand. The stored id is the MIME part id ("1", "2.1"): Gmail's attachmentId
// is an opaque token that is not guaranteed to be the same from one messages.get to the next, so
// it is looked up fresh here — one masked messages.get (part ids, names, types, sizes and
// attachment tokens only; never `data`) — and then messages.attachments.get streams the bytes
// through the incremental decoder (attachment-json.ts). Nothing is buffered whole or kept.
import type { gmail_v1 } from '@googleapis/gmail';
import { ThreadlinkError, type AttachmentContent, type FetchAttachmentOptions, type ProviderSession } from '@threadlink/core/provider';
import { decodeAttachmentData } from './attachment-json.js';
import { withGmail, type GmailContext } from './client.js';

function partsMask(depth: number): string {
  const own = 'partId,mimeType,filename,body(attachmentId,size)';
  return depth === 0 ? own : `${own},parts(${partsMask(depth - 1)})`;
}
/** The same five levels of nesting metadata.ts reads. */
const PARTS_FIELDS = `payload(${partsMask(5)})`;

function findPart(part: gmail_v1.Schema$MessagePart | undefined, partId: string): gmail_v1.Schema$MessagePart | undefined {
  if (!part) return undefined;
  if (part.partId === partId) return part;
  for (const child of part.parts ?? []) {
    const found = findPart(child, partId);
    if (found) return found;
  }
  return undefined;
}

/** A web stream over an async generator: one chunk decoded per read, so the reader sets the pace. */
function toWebStream(chunks: AsyncGenerator<Uint8Array>, onCancel: () => void): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await chunks.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        } catch (error) {
          controller.error(error);
        }
      },
      async cancel() {
        onCancel();
        await chunks.return(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

export async function fetchAttachment(
  { options, quota }: GmailContext,
  session: ProviderSession,
  providerMessageId: string,
  attachmentId: string,
  { maxBytes }: FetchAttachmentOptions,
): Promise<AttachmentContent> {
  if (options.mode === 'metadata') {
    // gmail.metadata cannot read parts or attachments; asking would only earn a 403 from Google.
    throw new ThreadlinkError('INSUFFICIENT_SCOPE', 'Attachments need the full mode (gmail.readonly); this Gmail provider runs in metadata mode', {
      details: { provider: 'gmail', mode: 'metadata' },
    });
  }
  // A user is waiting on the file: it draws on the mailbox's quota ahead of back-fill.
  return withGmail(options, session, quota.lane(session, 'live'), async (client) => {
    const message = await client.call('messages.get', (request) =>
      client.api.users.messages.get({ userId: 'me', id: providerMessageId, format: 'full', fields: PARTS_FIELDS }, request),
    );
    const part = findPart(message.payload ?? undefined, attachmentId);
    if (!part || (part.parts?.length ?? 0) > 0 || !part.filename) {
      throw new ThreadlinkError('NOT_FOUND', 'The message has no such attachment', { details: { provider: 'gmail' } });
    }
    const size = typeof part.body?.size === 'number' ? part.body.size : null;
    if (size !== null && size > maxBytes) {
      throw new ThreadlinkError('PAYLOAD_TOO_LARGE', `The attachment is ${size} bytes, over the ${maxBytes}-byte limit`, {
        details: { provider: 'gmail', size, maxBytes },
      });
    }
    const token = part.body?.attachmentId;
    if (!token) {
      // Gmail keeps every named part behind an attachmentId; a part without one has no bytes to give.
      throw new ThreadlinkError('ATTACHMENT_UNSUPPORTED', 'Gmail lists this part without attachment data', { details: { provider: 'gmail' } });
    }
    const controller = new AbortController();
    const abort = () => controller.abort();
    session.signal?.addEventListener('abort', abort, { once: true });
    const body = await client.call('messages.attachments.get', (request) =>
      client.api.users.messages.attachments.get(
        { userId: 'me', messageId: providerMessageId, id: token, fields: 'data' },
        // The stream outlives the call: its own signal, and gaxios's timeout over the whole download as before.
        { ...request, signal: controller.signal, timeout: client.options.requestTimeoutMs, responseType: 'stream' },
      ),
    );
    const source = body as unknown as AsyncIterable<Uint8Array | string>;
    return {
      stream: toWebStream(decodeAttachmentData(source), () => {
        session.signal?.removeEventListener('abort', abort);
        controller.abort();
      }),
      filename: part.filename,
      contentType: part.mimeType ?? null,
      size,
    };
  });
}
