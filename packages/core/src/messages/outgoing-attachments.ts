// Files a host hands over for a reply, a new message or a forward. The content may be bytes, a web
// ReadableStream of bytes (a download, an upload being received, `Readable.toWeb(fs.createReadStream(…))`)
// or a Blob (a File from a form). Streams and Blobs are read here, once, with the call's total
// limit counted chunk by chunk: past it the source is cancelled and the call fails with
// PAYLOAD_TOO_LARGE before any provider is asked. What is read goes to the provider and is dropped
// with the call: never stored, logged or emitted.
import type { z } from 'zod';
import type { OutgoingAttachmentInput } from '../api.js';
import { ThreadlinkError } from '../errors.js';

/** 35 MB: the larger of the two providers' message limits (Gmail's 35 MB upload, Exchange Online's default 35 MB). */
const DEFAULT_MAX_OUTGOING_BYTES = 35 * 1024 * 1024;

interface ReadAttachment {
  filename: string;
  content: Uint8Array;
  contentType?: string;
}

function tooLarge(maxBytes: number): ThreadlinkError {
  return new ThreadlinkError('PAYLOAD_TOO_LARGE', `The attachments are over the ${maxBytes}-byte limit of one message`, { details: { maxBytes } });
}

function isStream(value: unknown): value is ReadableStream<Uint8Array> {
  return typeof value === 'object' && value !== null && typeof (value as ReadableStream).getReader === 'function';
}

function isBlob(value: unknown): value is Blob {
  return typeof Blob !== 'undefined' && value instanceof Blob;
}

/** Reads one stream, failing as soon as `budget` bytes are passed; returns its bytes in one buffer. */
async function readBounded(stream: ReadableStream<Uint8Array>, budget: number, maxBytes: number): Promise<Uint8Array> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!(value instanceof Uint8Array)) throw new ThreadlinkError('INVALID_INPUT', 'An attachment stream must yield Uint8Array chunks');
      size += value.byteLength;
      if (size > budget) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const content = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks.splice(0)) {
    content.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return content;
}

/**
 * Turns every source into bytes within `maxBytes` for all files together (the providers limit a
 * message, not a file). Entries that are not objects pass through for the schema to refuse.
 */
export async function readOutgoingAttachments(
  attachments: readonly OutgoingAttachmentInput[] | undefined,
  maxBytes: number = DEFAULT_MAX_OUTGOING_BYTES,
): Promise<ReadAttachment[] | undefined> {
  if (attachments === undefined) return undefined;
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) throw new ThreadlinkError('INVALID_INPUT', 'maxAttachmentBytes must be a positive integer');
  if (!Array.isArray(attachments)) return attachments as unknown as ReadAttachment[];
  const read: ReadAttachment[] = [];
  let total = 0;
  for (const attachment of attachments) {
    const source: unknown = attachment?.content;
    let content: Uint8Array;
    if (source instanceof Uint8Array) content = source;
    else if (isBlob(source)) {
      // A Blob says its size up front: refused without reading a byte.
      if (total + source.size > maxBytes) throw tooLarge(maxBytes);
      content = await readBounded(source.stream(), maxBytes - total, maxBytes);
    } else if (isStream(source)) content = await readBounded(source, maxBytes - total, maxBytes);
    else {
      read.push(attachment as ReadAttachment);
      continue;
    }
    total += content.byteLength;
    if (total > maxBytes) throw tooLarge(maxBytes);
    read.push({ ...attachment, content });
  }
  return read;
}

/**
 * Parses a draft against its schema twice: without the files first (a wrong recipient list is
 * refused before a host's stream is read), then with the files read within `maxBytes`.
 */
export async function parseDraftWithFiles<Schema extends z.ZodType>(
  schema: Schema,
  draft: object,
  attachments: readonly OutgoingAttachmentInput[] | undefined,
  maxBytes: number | undefined,
  what: string,
): Promise<z.output<Schema>> {
  const parse = (files?: unknown): z.output<Schema> => {
    const parsed = schema.safeParse({ ...draft, ...(files === undefined ? {} : { attachments: files }) });
    if (!parsed.success) throw new ThreadlinkError('INVALID_INPUT', `Invalid ${what}: ${parsed.error.issues.map((issue) => issue.message).join('; ')}`);
    return parsed.data;
  };
  parse();
  return parse(await readOutgoingAttachments(attachments, maxBytes));
}
