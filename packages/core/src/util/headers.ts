// Header parsing shared by the adapters: RFC 5322 address lists, RFC 2047 encoded words,
// Message-ID lists (References) and subject normalisation for matching and threading.
import type { Participant } from '../domain/schemas.js';

const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;

function decodeBytes(bytes: Uint8Array, charset: string): string {
  try {
    return new TextDecoder(charset.toLowerCase().split('*')[0] ?? 'utf-8', { fatal: false }).decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

/** Decodes RFC 2047 encoded words ("=?UTF-8?Q?Change_request_=E2=80=93?="). Never throws. */
export function decodeMimeWords(input: string): string {
  // Whitespace between two adjacent encoded words is not displayed (RFC 2047 §6.2).
  const joined = input.replace(/(=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=)/g, '$1');
  return joined.replace(ENCODED_WORD, (whole, charset: string, encoding: string, text: string) => {
    try {
      if (encoding.toUpperCase() === 'B') return decodeBytes(Buffer.from(text, 'base64'), charset);
      const bytes: number[] = [];
      const source = text.replace(/_/g, ' ');
      for (let index = 0; index < source.length; index += 1) {
        const char = source[index]!;
        const hex = source.slice(index + 1, index + 3);
        if (char === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
          bytes.push(parseInt(hex, 16));
          index += 2;
        } else bytes.push(...Buffer.from(char, 'utf8'));
      }
      return decodeBytes(Uint8Array.from(bytes), charset);
    } catch {
      return whole;
    }
  });
}

const ADDRESS = /^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+\.[^\s@<>(),;:"]+$|^[^\s@<>(),;:"]+@[^\s@<>(),;:"]+$/;

/** Splits on commas that are outside quotes, angle brackets and comments. */
function splitList(input: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  let angle = 0;
  let comment = 0;
  for (let index = 0; index < input.length; index += 1) {
    const char = input[index]!;
    if (char === '\\' && quoted) {
      current += char + (input[index + 1] ?? '');
      index += 1;
      continue;
    }
    if (char === '"' && comment === 0) quoted = !quoted;
    else if (!quoted && char === '(') comment += 1;
    else if (!quoted && char === ')' && comment > 0) comment -= 1;
    else if (!quoted && comment === 0 && char === '<') angle += 1;
    else if (!quoted && comment === 0 && char === '>' && angle > 0) angle -= 1;
    if ((char === ',' || char === ';') && !quoted && angle === 0 && comment === 0) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter(Boolean);
}

function cleanName(name: string): string | undefined {
  const trimmed = decodeMimeWords(name.replace(/\([^)]*\)/g, '').trim())
    .replace(/^"(.*)"$/s, '$1')
    .replace(/\\(.)/g, '$1')
    .trim();
  return trimmed.length > 0 ? trimmed.slice(0, 512) : undefined;
}

/** Parses one address ("Ana Ruiz <ana@acme.com>", "ana@acme.com", "ana@acme.com (Ana)"). */
export function parseAddress(input: string): Participant | null {
  const text = input.trim();
  if (!text) return null;
  // Group syntax "team: a@x, b@y;" is flattened by parseAddressList; here a lone group name is nothing.
  const angle = /<([^<>]*)>\s*(?:\([^)]*\))?\s*$/.exec(text);
  let address: string;
  let name: string | undefined;
  if (angle) {
    address = angle[1]!.trim();
    name = cleanName(text.slice(0, angle.index));
  } else {
    const comment = /\(([^)]*)\)/.exec(text);
    address = text.replace(/\([^)]*\)/g, '').trim();
    name = comment ? cleanName(comment[1]!) : undefined;
  }
  address = address.replace(/^mailto:/i, '').toLowerCase();
  if (!ADDRESS.test(address) || address.length > 320) return null;
  return name === undefined || name.toLowerCase() === address ? { address } : { address, name };
}

/** Parses a header value holding an address list. Invalid entries are skipped, never thrown. */
export function parseAddressList(input: string | null | undefined): Participant[] {
  if (!input) return [];
  const flattened = input.replace(/[^,:;<>"]*:\s*([^;]*);/g, '$1,');
  const seen = new Set<string>();
  const out: Participant[] = [];
  for (const part of splitList(flattened)) {
    const participant = parseAddress(part);
    if (participant && !seen.has(participant.address)) {
      seen.add(participant.address);
      out.push(participant);
    }
  }
  return out;
}

/** Message-IDs in References / In-Reply-To, with their angle brackets. */
export function parseMessageIdList(input: string | null | undefined): string[] {
  if (!input) return [];
  const found = input.match(/<[^<>\s]+>/g);
  if (found) return [...new Set(found)].slice(-200);
  const bare = input.trim();
  return bare && !/\s/.test(bare) ? [`<${bare.replace(/^<|>$/g, '')}>`] : [];
}

const REPLY_PREFIX = /^\s*((re|fw|fwd|aw|wg|sv|vs|tr|rv|antw|ref)(\[\d+\])?\s*:\s*)+/i;

/** "RE: FW: Change request – PRJ-1042" → "change request – prj-1042" (for threading and subject rules). */
export function normalizeSubject(subject: string): string {
  let current = subject;
  for (let next = current.replace(REPLY_PREFIX, ''); next !== current; next = current.replace(REPLY_PREFIX, '')) current = next;
  return current.replace(/\s+/g, ' ').trim().toLowerCase();
}

/** The Subject of a reply: "Re: " + the original unless it already starts with a reply prefix. */
export function replySubject(subject: string): string {
  return /^\s*re\s*:/i.test(subject) ? subject : `Re: ${subject}`;
}

export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

interface ThreadingHeaders {
  inReplyTo: string | null;
  references: string[];
}

/**
 * A message's In-Reply-To and References never change, but not every copy shows them (Graph's Sent
 * Items copy has no internetMessageHeaders): a copy showing neither takes the ones already known.
 */
export function keepThreadingHeaders<T extends ThreadingHeaders>(message: T, known: ThreadingHeaders): T {
  if (message.inReplyTo !== null || message.references.length > 0) return message;
  return { ...message, inReplyTo: known.inReplyTo, references: known.references };
}
