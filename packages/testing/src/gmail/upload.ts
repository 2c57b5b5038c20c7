// The two ways messages.send takes a message (developers.google.com/workspace/gmail/api/guides/uploads):
// - POST /gmail/v1/users/{u}/messages/send with JSON `{ raw, threadId }`: the message base64url
//   in the body. Google refuses such a request at a few MB with 413 (the client libraries' issue
//   trackers report 413 "Request Entity Too Large" from about 5 MB), so the emulator takes 5 MB.
// - POST /upload/gmail/v1/users/{u}/messages/send?uploadType=media|multipart: the message as
//   media of type message/* (alone, or after a JSON metadata part), up to 35 MB
//   (users.messages/send: "Maximum file size: 35MB, Accepted Media MIME types: message/*").
import type { EmulatorRequest, EmulatorResponse } from '../common/server.js';
import { googleError, invalidArgument } from './errors.js';

const MAX_JSON_SEND_BYTES = 5 * 1024 * 1024;
const MAX_UPLOAD_MESSAGE_BYTES = 35 * 1024 * 1024;

const tooLarge = (what: string): EmulatorResponse => googleError(413, `Request Entity Too Large: ${what}`, 'uploadTooLarge');

function mediaType(value: string | undefined): EmulatorResponse | undefined {
  const type = (value ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (type.startsWith('message/')) return undefined;
  return invalidArgument(`Media type '${type}' is not supported. Valid media types: [message/*]`);
}

function checkMedia(raw: Buffer, type: string | undefined): EmulatorResponse | undefined {
  if (raw.length > MAX_UPLOAD_MESSAGE_BYTES) return tooLarge(`the message is over ${MAX_UPLOAD_MESSAGE_BYTES} bytes`);
  return mediaType(type);
}

/** The message and thread of a send, or the error Gmail answers. */
export function readSendBody(request: EmulatorRequest): { raw: Buffer; threadId?: string } | EmulatorResponse {
  if (!request.path.startsWith('/upload/')) {
    if (request.body.length > MAX_JSON_SEND_BYTES) return tooLarge('send large messages through the /upload URI');
    const body = request.json<{ raw?: string; threadId?: string }>();
    if (!body?.raw) return invalidArgument("'raw' RFC822 payload message string or uploading message via /upload/* URL required");
    // The field is base64url; Google also tolerates the standard alphabet.
    const raw = Buffer.from(body.raw.replace(/\+/g, '-').replace(/\//g, '_'), 'base64url');
    return body.threadId ? { raw, threadId: body.threadId } : { raw };
  }
  const uploadType = request.url.searchParams.get('uploadType');
  if (uploadType === 'media') return checkMedia(request.body, request.headers['content-type']) ?? { raw: request.body };
  if (uploadType !== 'multipart') return invalidArgument(`Invalid uploadType: ${uploadType ?? ''}`);
  const boundary = /boundary="?([^";]+)"?/i.exec(request.headers['content-type'] ?? '')?.[1];
  if (!boundary) return invalidArgument('Missing multipart boundary');
  const text = request.body.toString('latin1');
  const sections = text.split(`--${boundary}`).slice(1, -1);
  let threadId: string | undefined;
  let media: { raw: Buffer; type: string | undefined } | undefined;
  for (const section of sections) {
    const trimmed = section.replace(/^\r?\n/, '').replace(/\r?\n$/, '');
    const split = trimmed.search(/\r?\n\r?\n/);
    const headers = split >= 0 ? trimmed.slice(0, split) : '';
    const content = split >= 0 ? trimmed.slice(split).replace(/^\r?\n\r?\n/, '') : trimmed;
    const type = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1];
    if (/^application\/json/i.test(type ?? '')) {
      const metadata = JSON.parse(Buffer.from(content, 'latin1').toString('utf8')) as { threadId?: string };
      threadId = metadata.threadId;
    } else {
      media = { raw: Buffer.from(content, 'latin1'), type };
    }
  }
  if (!media) return invalidArgument('Missing media part');
  const refused = checkMedia(media.raw, media.type);
  if (refused) return refused;
  return threadId !== undefined ? { raw: media.raw, threadId } : { raw: media.raw };
}
