// An attachment, streamed from the provider when a user opens it: never buffered whole, never
// written anywhere, never logged. Core checks the scope, that the message lists the attachment,
// the size limit (before the download when the provider announces a size, and again byte by byte
// while it streams) and sanitises what a browser will see: the file name and the content type.
import type { AttachmentInput, AttachmentDownload } from '../api.js';
import type { CoreContext } from '../context.js';
import { ThreadlinkError } from '../errors.js';
import { safeAttachmentContentType, sanitizeAttachmentFilename } from '../security/attachment-headers.js';

/** 50 MiB: above Gmail's 25 MB and Outlook's usual 35 MB message limits, below a tenant's 150 MB Graph cap. */
const DEFAULT_MAX_ATTACHMENT_BYTES = 50 * 1024 * 1024;

export type ReadAttachment = (messageId: string, attachmentId: string, input: AttachmentInput) => Promise<AttachmentDownload>;

export function createAttachmentRead(context: CoreContext): ReadAttachment {
  return async function attachment(messageId, attachmentId, input) {
    const { maxBytes: maxInput, ...scope } = input;
    if (typeof attachmentId !== 'string' || attachmentId.length === 0 || attachmentId.length > 2048) {
      throw new ThreadlinkError('INVALID_INPUT', 'attachmentId must be a non-empty string of at most 2048 characters');
    }
    const maxBytes = maxInput ?? DEFAULT_MAX_ATTACHMENT_BYTES;
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new ThreadlinkError('INVALID_INPUT', 'maxBytes must be a positive integer');
    const { message, connection } = await context.messageFor(messageId, scope);
    // Rows carrying attachment ids name every attachment the message has: anything else is not
    // this message's, and is refused without asking the provider. Older rows (no ids) pass through.
    const listed = message.attachments.some((entry) => entry.id !== undefined);
    const known = message.attachments.find((entry) => entry.id === attachmentId);
    if (listed && !known) throw new ThreadlinkError('NOT_FOUND', 'The message has no such attachment', { details: { messageId } });
    const provider = context.providerOf(connection.provider);
    if (!provider.fetchAttachment) {
      throw new ThreadlinkError('ATTACHMENT_UNSUPPORTED', `The ${provider.id} provider cannot stream attachments`, { details: { provider: provider.id } });
    }
    const session = await context.sessionFor(connection);
    const fetched = await provider.fetchAttachment(session, message.providerMessageId, attachmentId, { maxBytes });
    if (fetched.size !== null && fetched.size > maxBytes) {
      await fetched.stream.cancel().catch(() => undefined);
      throw tooLarge(maxBytes, fetched.size);
    }
    return {
      messageId,
      attachmentId,
      filename: sanitizeAttachmentFilename(fetched.filename ?? known?.name),
      contentType: safeAttachmentContentType(fetched.contentType ?? known?.mimeType),
      size: fetched.size,
      stream: limitBytes(fetched.stream, maxBytes, fetched.size),
    };
  };
}

function tooLarge(maxBytes: number, size: number): ThreadlinkError {
  return new ThreadlinkError('PAYLOAD_TOO_LARGE', `The attachment is ${size} bytes, over the ${maxBytes}-byte limit`, { details: { maxBytes, size } });
}

/**
 * Passes chunks through as they come (one in flight: the reader's pace sets the download's) and
 * fails the stream past `maxBytes`, or when the provider sends other than the size it announced.
 */
function limitBytes(source: ReadableStream<Uint8Array>, maxBytes: number, announced: number | null): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let seen = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            if (announced !== null && seen !== announced) {
              controller.error(
                new ThreadlinkError('PROVIDER_ERROR', `The attachment ended after ${seen} of ${announced} bytes`, { details: { seen, announced } }),
              );
            } else controller.close();
            return;
          }
          seen += value.byteLength;
          if (seen > maxBytes) {
            await reader.cancel().catch(() => undefined);
            controller.error(tooLarge(maxBytes, seen));
            return;
          }
          controller.enqueue(value);
        } catch (error) {
          controller.error(error);
        }
      },
      async cancel(reason) {
        await reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
