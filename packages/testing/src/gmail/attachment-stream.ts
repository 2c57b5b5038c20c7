// messages.attachments.get answers a MessagePartBody — `{ "size": n, "data": "<base64url>" }` —
// and a 20 MB file makes a 27 MB JSON string. The emulator writes that answer as a stream instead
// of building it: the JSON around the data, then the base64url of 48 KiB of the part at a time
// (a multiple of 3 bytes, so the pieces join into one valid base64url string), so serving a large
// attachment costs the emulator one chunk, as Graph's `$value` costs it the stored bytes only.
import { Readable } from 'node:stream';
import type { gmail_v1 } from '@googleapis/gmail';
import type { FieldMask } from './fields.js';

const CHUNK_BYTES = 48 * 1024;

function* pieces(body: Buffer, mask: FieldMask | undefined): Generator<string> {
  const wants = (field: keyof gmail_v1.Schema$MessagePartBody) => !mask || mask.has(field) || mask.has('*');
  const members: string[] = [];
  if (wants('size')) members.push(`  "size": ${body.length}`);
  if (!wants('data') || body.length === 0) {
    yield `{\n${members.join(',\n')}\n}\n`;
    return;
  }
  members.push('  "data": "');
  yield `{\n${members.join(',\n')}`;
  for (let offset = 0; offset < body.length; offset += CHUNK_BYTES) {
    yield body.subarray(offset, offset + CHUNK_BYTES).toString('base64url');
  }
  yield '"\n}\n';
}

/** The MessagePartBody of `body` as a JSON stream, with the fields the mask selects (all without one). */
export function streamPartBody(body: Buffer, mask: FieldMask | undefined): Readable {
  return Readable.from(pieces(body, mask), { objectMode: false });
}
