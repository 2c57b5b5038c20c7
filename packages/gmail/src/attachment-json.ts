// Gmail's messages.attachments.get answers JSON — `{"data": "<base64url>"}` with `fields=data` —
// never raw bytes, and no documented `alt=media` exists for it. Parsing that answer whole would
// hold the base64 text, its parsed string and the decoded bytes at once (≈ 3.7 × the file). This
// decoder reads the answer as it streams: it skips to the "data" string, then decodes base64url
// in whole 4-character groups, carrying at most 3 characters from one chunk to the next. Memory:
// one network chunk (≤ 64 KiB from Node's HTTP stack) plus its decoded three quarters, whatever
// the attachment's size. base64url has no characters JSON escapes, so no escape handling is needed.
import { ThreadlinkError } from '@threadlink/core/provider';

/** The JSON before the data string is `{` + whitespace + `"data"` + `:` + whitespace: a few bytes. */
const MAX_PREFIX = 4096;
const DATA_START = /"data"\s*:\s*"/;
/** With the `=` padding Google may add at the end. */
const BASE64URL = /^[A-Za-z0-9_=-]*$/;

function malformed(reason: string): ThreadlinkError {
  return new ThreadlinkError('PROVIDER_ERROR', `Gmail returned an attachment answer that is not MessagePartBody JSON: ${reason}`, {
    details: { provider: 'gmail' },
  });
}

/** Decodes the `data` field of a streamed MessagePartBody answer, yielding bytes as they arrive. */
export async function* decodeAttachmentData(source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array | string>): AsyncGenerator<Uint8Array> {
  const text = new TextDecoder();
  let prefix = '';
  let inData = false;
  let ended = false;
  let carry = '';
  for await (const chunk of source) {
    let piece = typeof chunk === 'string' ? chunk : text.decode(chunk, { stream: true });
    if (ended) {
      if (!/^[\s}]*$/.test(piece)) throw malformed('unexpected content after the data string');
      continue;
    }
    if (!inData) {
      prefix += piece;
      const found = DATA_START.exec(prefix);
      if (!found) {
        if (prefix.length > MAX_PREFIX) throw malformed('no "data" string');
        continue;
      }
      piece = prefix.slice(found.index + found[0].length);
      prefix = '';
      inData = true;
    }
    const quote = piece.indexOf('"');
    const encoded = carry + (quote === -1 ? piece : piece.slice(0, quote));
    if (!BASE64URL.test(encoded)) throw malformed('the data string is not base64url');
    if (quote !== -1) {
      ended = true;
      if (!/^[\s}]*$/.test(piece.slice(quote + 1))) throw malformed('unexpected content after the data string');
      carry = '';
      if (encoded.length % 4 === 1) throw malformed('the data string is truncated');
      if (encoded.length > 0) yield Buffer.from(encoded, 'base64url');
      continue;
    }
    const whole = encoded.length - (encoded.length % 4);
    carry = encoded.slice(whole);
    if (whole > 0) yield Buffer.from(encoded.slice(0, whole), 'base64url');
  }
  if (!inData) {
    // `fields=data` on an empty attachment answers `{}`: zero bytes, not an error.
    if (/^\s*\{\s*\}\s*$/.test(prefix)) return;
    throw malformed('no "data" string');
  }
  if (!ended) throw malformed('the answer ended inside the data string');
}
