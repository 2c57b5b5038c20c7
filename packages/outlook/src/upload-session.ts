// Files over 3 MB go onto a draft through an upload session (learn.microsoft.com/graph/outlook-large-attachments):
// POST /me/messages/{draft}/attachments/createUploadSession with the AttachmentItem (file, name,
// size), then the bytes in order as PUTs of byte ranges to the session's pre-authenticated
// uploadUrl — without the bearer token, which that URL must never receive — each range with
// Content-Range and Content-Length; every answer but the last is 200 with nextExpectedRanges, the
// last is 201. Ranges are 12 × 320 KiB (3.75 MiB): a multiple of 320 KiB under Graph's 4 MB per PUT.
import { ThreadlinkError } from '@threadlink/core/provider';
import type { GraphSession } from './client.js';

/** Graph caps a request at 4 MB and base64 adds a third: inline content stays under 3 MB. */
export const MAX_INLINE_ATTACHMENT_BYTES = 3 * 1024 * 1024;
/** An upload session takes files up to 150 MB (attachment-createuploadsession). */
const MAX_UPLOAD_ATTACHMENT_BYTES = 150 * 1024 * 1024;
/** Exchange Online's default limit on a whole message (admins may raise it); checked before anything is sent. */
const MAX_MESSAGE_BYTES = 35 * 1024 * 1024;
const RANGE_BYTES = 12 * 320 * 1024;
/** Where Exchange hands out upload URLs (outlook.office.com, national clouds); the Graph origin itself for emulators. */
const UPLOAD_HOSTS = /(^|\.)(office\.com|office365\.com|outlook\.com|office365\.us|outlook\.cn)$/i;

/** The part of Graph's uploadSession resource read here. */
interface UploadSession {
  uploadUrl?: string | null;
}

interface LargeFile {
  filename: string;
  content: Uint8Array;
  contentType?: string | undefined;
}

function uploadTarget(uploadUrl: unknown, graphBaseUrl: string): URL {
  const url = typeof uploadUrl === 'string' && URL.canParse(uploadUrl) ? new URL(uploadUrl) : undefined;
  const trusted = url && (url.origin === new URL(graphBaseUrl).origin || (url.protocol === 'https:' && UPLOAD_HOSTS.test(url.hostname)));
  if (!url || !trusted) {
    throw new ThreadlinkError('PROVIDER_ERROR', 'Graph returned an upload session without a usable upload URL', { details: { provider: 'outlook' } });
  }
  return url;
}

/** Attaches one file of 3–150 MB to a draft through an upload session. Not repeated on failure: the caller discards the draft. */
export async function uploadAttachment(graph: GraphSession, graphBaseUrl: string, draftPath: string, file: LargeFile, signal?: AbortSignal): Promise<void> {
  const size = file.content.byteLength;
  const session = await graph.post<UploadSession>(
    `${draftPath}/attachments/createUploadSession`,
    { AttachmentItem: { attachmentType: 'file', name: file.filename, size, contentType: file.contentType ?? 'application/octet-stream' } },
    { retry: 'throttling' },
  );
  const target = uploadTarget(session?.uploadUrl, graphBaseUrl);
  for (let start = 0; start < size; start += RANGE_BYTES) {
    const range = file.content.subarray(start, Math.min(size, start + RANGE_BYTES));
    const end = start + range.byteLength - 1;
    const answer = await fetch(target, {
      method: 'PUT',
      headers: {
        'content-type': 'application/octet-stream',
        'content-range': `bytes ${start}-${end}/${size}`,
      },
      // fetch sets Content-Length from the body's size.
      body: range as Uint8Array<ArrayBuffer>,
      ...(signal ? { signal } : {}),
    });
    const last = end === size - 1;
    if (answer.status !== (last ? 201 : 200)) {
      const text = await answer.text().catch(() => '');
      throw new ThreadlinkError('PROVIDER_ERROR', `Graph refused the bytes ${start}-${end} of ${file.filename} (HTTP ${answer.status})`, {
        details: { provider: 'outlook', status: answer.status, answer: text.slice(0, 200) },
      });
    }
    await answer.body?.cancel();
  }
}

/**
 * Refuses, before anything is sent, what Graph would refuse: on a draft ('draft'), a file past the
 * upload session's limit or a message past Exchange's; in one request without a draft ('inline',
 * Mail.Send alone), more than 3 MB of files in all, since upload sessions need Mail.ReadWrite.
 */
export function assertAttachmentSizes(attachments: readonly LargeFile[], route: 'draft' | 'inline'): void {
  let total = 0;
  for (const attachment of attachments) {
    const size = attachment.content.byteLength;
    total += size;
    if (size > MAX_UPLOAD_ATTACHMENT_BYTES) {
      throw new ThreadlinkError('PAYLOAD_TOO_LARGE', `${attachment.filename} is over Graph's 150 MB attachment limit`, {
        details: { provider: 'outlook', size, maxBytes: MAX_UPLOAD_ATTACHMENT_BYTES },
      });
    }
  }
  if (route === 'inline' && total > MAX_INLINE_ATTACHMENT_BYTES) {
    throw new ThreadlinkError('PAYLOAD_TOO_LARGE', 'Attachments over 3 MB need an upload session, which needs Mail.ReadWrite', {
      details: { provider: 'outlook', size: total, maxBytes: MAX_INLINE_ATTACHMENT_BYTES },
    });
  }
  if (total > MAX_MESSAGE_BYTES) {
    throw new ThreadlinkError('PAYLOAD_TOO_LARGE', `The attachments add up to ${total} bytes, over Exchange Online's 35 MB message limit`, {
      details: { provider: 'outlook', size: total, maxBytes: MAX_MESSAGE_BYTES },
    });
  }
}
