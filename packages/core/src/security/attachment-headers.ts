// What a host may safely put in front of a browser for an attachment: a file name that names no
// path and carries no control or direction-override characters, a content type that is a plain
// `type/subtype` (never one the sender made up to be sniffed or rendered), and the headers that
// make a browser download it instead of rendering it inside the host's origin.

/** File names longer than this are cut (the extension is kept): 255 is most file systems' limit. */
const MAX_FILENAME_LENGTH = 200;

/** C0/C1 controls, and the bidirectional overrides that let "invoice‮fdp.exe" read as "invoiceexe.pdf". */
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point.
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** A name safe to show and to offer as a download name; "attachment" when nothing usable is left. */
export function sanitizeAttachmentFilename(raw: string | null | undefined): string {
  const withoutPath = (raw ?? '').replace(UNSAFE_CHARACTERS, '').split(/[/\\]/).pop() ?? '';
  // Leading dots would make a hidden file (".htaccess"); trailing dots and spaces vanish on Windows.
  const trimmed = withoutPath
    .trim()
    .replace(/^\.+/, '')
    .replace(/[. ]+$/, '');
  if (trimmed === '') return 'attachment';
  if (trimmed.length <= MAX_FILENAME_LENGTH) return trimmed;
  const dot = trimmed.lastIndexOf('.');
  const extension = dot > 0 && trimmed.length - dot <= 16 ? trimmed.slice(dot) : '';
  return trimmed.slice(0, MAX_FILENAME_LENGTH - extension.length) + extension;
}

const TOKEN = '[a-z0-9!#$&^_.+-]+';
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}$`);

/**
 * The media type without parameters, lower-cased, when it is a well-formed `type/subtype`;
 * otherwise application/octet-stream. Parameters (a charset the sender chose) are dropped.
 */
export function safeAttachmentContentType(raw: string | null | undefined): string {
  const essence = (raw ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  return MEDIA_TYPE.test(essence) ? essence : 'application/octet-stream';
}

/**
 * The response headers to serve an attachment with: always a download (`Content-Disposition:
 * attachment`, RFC 6266 with an RFC 8187 UTF-8 name), never sniffed, never run as a page.
 */
export function attachmentResponseHeaders(attachment: { filename: string; contentType: string; size: number | null }): Record<string, string> {
  const asciiFallback = attachment.filename.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return {
    'Content-Type': attachment.contentType,
    'Content-Disposition': `attachment; filename="${asciiFallback}"; filename*=UTF-8''${encodeRfc8187(attachment.filename)}`,
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; sandbox",
    'Cache-Control': 'private, no-store',
    ...(attachment.size === null ? {} : { 'Content-Length': String(attachment.size) }),
  };
}

function encodeRfc8187(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`);
}
