// Just enough RFC 2045/2046/2047/2231 to answer messages.get like Gmail does:
// a MIME tree as `payload` (partId "", "0", "0.1", …), decoded header values,
// text bodies inline as base64url `body.data`, everything else behind an
// `attachmentId`, and the body-derived `snippet`. Parsing works on latin1
// strings so byte offsets survive; text is decoded by charset at the edges.
import { decodeWords } from 'postal-mime';

export interface HeaderField {
  name: string;
  value: string;
}

export interface MimePart {
  headers: HeaderField[];
  /** Lower-cased `type/subtype`. */
  mimeType: string;
  parameters: Record<string, string>;
  disposition: string;
  filename: string;
  /** Transfer-decoded bytes (empty for multiparts). */
  body: Buffer;
  children: MimePart[];
}

export interface GmailMessagePart {
  partId: string;
  mimeType: string;
  filename: string;
  headers: HeaderField[];
  body: { size: number; data?: string; attachmentId?: string };
  parts?: GmailMessagePart[];
}

/** Splits a latin1 view of a message into its header block and body. */
function splitHeaderBody(text: string): { header: string; body: string; separator: string } {
  const crlf = text.indexOf('\r\n\r\n');
  const lf = text.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf <= lf)) return { header: text.slice(0, crlf), body: text.slice(crlf + 4), separator: '\r\n\r\n' };
  if (lf >= 0) return { header: text.slice(0, lf), body: text.slice(lf + 2), separator: '\n\n' };
  return { header: text, body: '', separator: '\r\n\r\n' };
}

/** Raw (still encoded) header fields, each with its folded continuation lines. */
function rawFields(header: string): string[] {
  const fields: string[] = [];
  for (const line of header.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && fields.length > 0) fields[fields.length - 1] += `\r\n${line}`;
    else if (line.length > 0) fields.push(line);
  }
  return fields;
}

function latin1ToUtf8(value: string): string {
  // 8-bit header bytes are almost always UTF-8 in practice (RFC 6532).
  return /[\u0080-\u00ff]/.test(value) ? Buffer.from(value, 'latin1').toString('utf8') : value;
}

function decodeField(field: string): HeaderField | null {
  const colon = field.indexOf(':');
  if (colon <= 0) return null;
  const name = field.slice(0, colon).trim();
  const unfolded = field
    .slice(colon + 1)
    .replace(/\r?\n(?=[ \t])/g, '')
    .trim();
  return { name, value: decodeWords(latin1ToUtf8(unfolded)) };
}

function parseHeaderBlock(header: string): HeaderField[] {
  return rawFields(header)
    .map(decodeField)
    .filter((field): field is HeaderField => field !== null);
}

export function headerValue(headers: readonly HeaderField[], name: string): string | undefined {
  const lower = name.toLowerCase();
  return headers.find((header) => header.name.toLowerCase() === lower)?.value;
}

/** Top-level headers of a raw message, decoded. */
export function parseTopHeaders(raw: Buffer): HeaderField[] {
  return parseHeaderBlock(splitHeaderBody(raw.toString('latin1')).header);
}

function decodeCharset(bytes: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset ?? 'utf-8').decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

function splitParameters(value: string): string[] {
  const pieces: string[] = [];
  let current = '';
  let quoted = false;
  for (let index = 0; index < value.length; index++) {
    const character = value[index];
    if (character === '\\' && quoted) {
      current += character + (value[index + 1] ?? '');
      index++;
    } else if (character === '"') {
      quoted = !quoted;
      current += character;
    } else if (character === ';' && !quoted) {
      pieces.push(current);
      current = '';
    } else {
      current += character;
    }
  }
  pieces.push(current);
  return pieces.map((piece) => piece.trim()).filter((piece) => piece.length > 0);
}

function percentDecode(value: string, charset: string): string {
  const bytes: number[] = [];
  for (let index = 0; index < value.length; index++) {
    const character = value[index] ?? '';
    if (character === '%' && /^[0-9a-fA-F]{2}$/.test(value.slice(index + 1, index + 3))) {
      bytes.push(parseInt(value.slice(index + 1, index + 3), 16));
      index += 2;
    } else {
      bytes.push(character.charCodeAt(0) & 0xff);
    }
  }
  return decodeCharset(Buffer.from(bytes), charset || 'utf-8');
}

/** `type/subtype; a=b; name*0*=utf-8''x; name*1*=y` → value + decoded parameters (RFC 2231 continuations). */
function parseStructuredHeader(value: string | undefined): { value: string; parameters: Record<string, string> } {
  if (value === undefined) return { value: '', parameters: {} };
  const [first = '', ...rest] = splitParameters(value);
  const continuations = new Map<string, { index: number; encoded: boolean; text: string }[]>();
  const parameters: Record<string, string> = {};
  for (const piece of rest) {
    const equals = piece.indexOf('=');
    if (equals <= 0) continue;
    const key = piece.slice(0, equals).trim().toLowerCase();
    let text = piece.slice(equals + 1).trim();
    if (text.startsWith('"') && text.endsWith('"') && text.length >= 2) text = text.slice(1, -1).replace(/\\(.)/g, '$1');
    const continuation = /^(.+?)\*(\d+)(\*)?$/.exec(key);
    if (continuation) {
      const base = continuation[1] ?? key;
      const list = continuations.get(base) ?? [];
      list.push({ index: Number(continuation[2]), encoded: continuation[3] === '*', text });
      continuations.set(base, list);
    } else if (key.endsWith('*')) {
      const [charset = 'utf-8', , encoded = ''] = text.split("'");
      parameters[key.slice(0, -1)] = percentDecode(encoded, charset);
    } else {
      parameters[key] = decodeWords(latin1ToUtf8(text));
    }
  }
  for (const [base, list] of continuations) {
    list.sort((left, right) => left.index - right.index);
    let charset = 'utf-8';
    let combined = '';
    list.forEach((segment, position) => {
      let text = segment.text;
      if (segment.encoded && position === 0 && text.split("'").length >= 3) {
        const [declared = 'utf-8', , ...restText] = text.split("'");
        charset = declared || 'utf-8';
        text = restText.join("'");
      }
      // Unencoded segments are literal bytes; percent-escape them so one decode handles both kinds.
      combined += segment.encoded ? text : Array.from(text, (character) => `%${(character.charCodeAt(0) & 0xff).toString(16).padStart(2, '0')}`).join('');
    });
    parameters[base] = percentDecode(combined, charset);
  }
  return { value: first.trim().toLowerCase(), parameters };
}

function decodeQuotedPrintable(text: string): Buffer {
  const stripped = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let index = 0; index < stripped.length; index++) {
    const character = stripped[index] ?? '';
    const hex = stripped.slice(index + 1, index + 3);
    if (character === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      index += 2;
    } else {
      bytes.push(character.charCodeAt(0) & 0xff);
    }
  }
  return Buffer.from(bytes);
}

function decodeTransfer(body: string, encoding: string | undefined): Buffer {
  switch ((encoding ?? '').trim().toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    default:
      return Buffer.from(body, 'latin1');
  }
}

function splitMultipart(body: string, boundary: string): string[] {
  const escaped = boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const delimiter = new RegExp(`(?:^|\\r?\\n)--${escaped}(--)?[ \\t]*(?=\\r?\\n|$)`, 'g');
  const parts: string[] = [];
  let start = -1;
  for (let match = delimiter.exec(body); match !== null; match = delimiter.exec(body)) {
    if (start >= 0) parts.push(body.slice(start, match.index));
    if (match[1] === '--') return parts;
    // Skip the line break that ends the delimiter line.
    const after = match.index + match[0].length;
    start = body.startsWith('\r\n', after) ? after + 2 : body.startsWith('\n', after) ? after + 1 : after;
  }
  if (start >= 0) parts.push(body.slice(start));
  return parts;
}

function parsePart(text: string, depth: number, defaultType: string): MimePart {
  const { header, body } = splitHeaderBody(text);
  const headers = parseHeaderBlock(header);
  const contentType = parseStructuredHeader(headerValue(headers, 'content-type') ?? defaultType);
  const disposition = parseStructuredHeader(headerValue(headers, 'content-disposition'));
  const mimeType = contentType.value || 'text/plain';
  const filename = disposition.parameters['filename'] ?? contentType.parameters['name'] ?? '';
  const described = { headers, mimeType, parameters: contentType.parameters, disposition: disposition.value, filename };
  const boundary = contentType.parameters['boundary'];
  if (mimeType.startsWith('multipart/') && boundary !== undefined && depth < 20) {
    const childDefault = mimeType === 'multipart/digest' ? 'message/rfc822' : 'text/plain';
    return { ...described, body: Buffer.alloc(0), children: splitMultipart(body, boundary).map((child) => parsePart(child, depth + 1, childDefault)) };
  }
  return { ...described, body: decodeTransfer(body, headerValue(headers, 'content-transfer-encoding')), children: [] };
}

export function parseMime(raw: Buffer): MimePart {
  return parsePart(raw.toString('latin1'), 0, 'text/plain');
}

function isInlineText(part: MimePart): boolean {
  return part.mimeType.startsWith('text/') && part.filename === '' && part.disposition !== 'attachment';
}

/** Gmail's `payload`: the MIME tree with partIds; only inline text carries `body.data`. */
export function toGmailPart(part: MimePart, partId: string, attachmentId: (partId: string) => string): GmailMessagePart {
  const base = { partId, mimeType: part.mimeType, filename: part.filename, headers: part.headers };
  if (part.children.length > 0 || part.mimeType.startsWith('multipart/')) {
    return {
      ...base,
      body: { size: 0 },
      parts: part.children.map((child, index) => toGmailPart(child, partId === '' ? String(index) : `${partId}.${index}`, attachmentId)),
    };
  }
  if (!isInlineText(part)) return { ...base, body: { attachmentId: attachmentId(partId), size: part.body.length } };
  if (part.body.length === 0) return { ...base, body: { size: 0 } };
  return { ...base, body: { size: part.body.length, data: part.body.toString('base64url') } };
}

export function findPart(part: MimePart, partId: string): MimePart | undefined {
  if (partId === '') return part;
  let current: MimePart | undefined = part;
  for (const index of partId.split('.')) current = current?.children[Number(index)];
  return current;
}

function leaves(part: MimePart): MimePart[] {
  return part.children.length === 0 ? [part] : part.children.flatMap(leaves);
}

export function attachmentNames(part: MimePart): string[] {
  return leaves(part)
    .map((leaf) => leaf.filename)
    .filter((name) => name.length > 0);
}

export function bodyText(part: MimePart): { text: string; html: string } {
  const textLeaves = leaves(part).filter(isInlineText);
  const plain = textLeaves.find((leaf) => leaf.mimeType === 'text/plain');
  const html = textLeaves.find((leaf) => leaf.mimeType === 'text/html');
  return {
    text: plain ? decodeCharset(plain.body, plain.parameters['charset']) : '',
    html: html ? decodeCharset(html.body, html.parameters['charset']) : '',
  };
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Gmail's `snippet`: the start of the visible text, whitespace collapsed, HTML-escaped. */
export function snippetOf(part: MimePart): string {
  const { text, html } = bodyText(part);
  const visible =
    text ||
    html
      .replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ')
      .replace(/<[^>]+>/g, ' ')
      .replace(/&nbsp;/g, ' ')
      .replace(/&amp;/g, '&')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>');
  const collapsed = visible.replace(/\s+/g, ' ').trim();
  return Array.from(collapsed)
    .slice(0, 200)
    .join('')
    .replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character);
}

export interface HeaderEdits {
  /** Header names (case-insensitive) to drop. */
  remove?: string[];
  /** Header names whose first occurrence is replaced (or appended when absent). */
  set?: Record<string, string>;
  /** Fields added at the top, as a receiving MTA does (`Delivered-To`, `Received`). */
  prepend?: HeaderField[];
}

/** Rewrites the top-level header block, leaving the body bytes untouched. */
export function editHeaders(raw: Buffer, edits: HeaderEdits): Buffer {
  const { header, body, separator } = splitHeaderBody(raw.toString('latin1'));
  const remove = new Set((edits.remove ?? []).map((name) => name.toLowerCase()));
  const pending = new Map(Object.entries(edits.set ?? {}).map(([name, value]) => [name.toLowerCase(), { name, value }]));
  const encode = (name: string, value: string): string => `${name}: ${Buffer.from(value, 'utf8').toString('latin1')}`;
  const fields: string[] = [];
  for (const field of rawFields(header)) {
    const name = field
      .slice(0, Math.max(field.indexOf(':'), 0))
      .trim()
      .toLowerCase();
    if (remove.has(name)) continue;
    const replacement = pending.get(name);
    if (replacement) {
      fields.push(encode(replacement.name, replacement.value));
      pending.delete(name);
      continue;
    }
    fields.push(field);
  }
  for (const { name, value } of pending.values()) fields.push(encode(name, value));
  const top = (edits.prepend ?? []).map(({ name, value }) => encode(name, value));
  return Buffer.from([...top, ...fields].join('\r\n') + separator + body, 'latin1');
}
