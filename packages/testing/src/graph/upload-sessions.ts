// Large attachments on a draft: POST /me/messages/{id}/attachments/createUploadSession answers an
// uploadSession whose pre-authenticated uploadUrl takes the file in ordered byte ranges, each a
// PUT with Content-Range and Content-Length and no Authorization header; the last range answers 201
// with a Location and the file is on the draft (learn.microsoft.com/graph/outlook-large-attachments,
// /graph/api/attachment-createuploadsession). Files of 3 MB to 150 MB; ranges of at most 4 MB.
// Real upload URLs live on outlook.office.com (`/api/v2.0/...AttachmentSessions('…')?authtoken=…`);
// here they live on the emulator's own origin under the same path shape.
import { randomBytes } from 'node:crypto';
import type { AttachmentItem, UploadSession } from '@microsoft/microsoft-graph-types';
import type { EmulatorRequest, EmulatorResponse } from '../common/server.js';
import type { GraphCall } from './context.js';
import { newAttachmentId } from './ids.js';
import type { MailStore, Mailbox, StoredMessage } from './mail-store.js';
import { graphError, graphJson } from './odata.js';

const MAX_UPLOAD_ATTACHMENT_BYTES = 150 * 1024 * 1024;
/** One PUT carries at most 4 MB ("up to 4 MB each time"). */
const MAX_UPLOAD_RANGE_BYTES = 4 * 1024 * 1024;
/** The session's token lifetime; each range extends it (uploadSession.expirationDateTime). */
const SESSION_LIFETIME_MS = 15 * 60_000;
const UPLOAD_PATH = /^\/api\/v2\.0\/Users\('[^']+'\)\/Messages\('[^']+'\)\/AttachmentSessions\('([^']+)'\)$/;

interface Session {
  id: string;
  token: string;
  mailbox: Mailbox;
  draft: StoredMessage;
  name: string;
  contentType: string;
  isInline: boolean;
  size: number;
  received: Buffer[];
  next: number;
  expiresAt: number;
}

export class UploadSessions {
  private readonly sessions = new Map<string, Session>();

  constructor(
    private readonly store: MailStore,
    private readonly now: () => number,
  ) {}

  /** Whether a request goes to an upload URL (answered without a bearer token). */
  static handles(path: string): boolean {
    return UPLOAD_PATH.test(path);
  }

  create(call: GraphCall, draftId: string): EmulatorResponse {
    const draft = this.store.findMessage(call.mailbox, draftId);
    if (!draft) return graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
    if (!draft.isDraft) return graphError(400, 'ErrorInvalidOperation', 'Attachments can be uploaded to draft items only.');
    const item = call.json<{ AttachmentItem?: AttachmentItem }>()?.AttachmentItem;
    if (!item || typeof item !== 'object') return graphError(400, 'BadRequest', "The parameter 'AttachmentItem' in the request payload is not valid.");
    if (item.attachmentType !== 'file') return graphError(400, 'BadRequest', 'Only file attachments can be uploaded through an upload session.');
    if (typeof item.name !== 'string' || item.name.length === 0) return graphError(400, 'BadRequest', 'The attachment name is required.');
    if (typeof item.size !== 'number' || !Number.isInteger(item.size) || item.size <= 0) {
      return graphError(400, 'BadRequest', 'The attachment size is required.');
    }
    if (item.size > MAX_UPLOAD_ATTACHMENT_BYTES) {
      return graphError(400, 'ErrorAttachmentSizeLimitExceeded', `The attachment exceeds the ${MAX_UPLOAD_ATTACHMENT_BYTES}-byte limit.`);
    }
    const session: Session = {
      id: newAttachmentId(),
      token: randomBytes(24).toString('base64url'),
      mailbox: call.mailbox,
      draft,
      name: item.name,
      contentType: item.contentType ?? 'application/octet-stream',
      isInline: item.isInline === true,
      size: item.size,
      received: [],
      next: 0,
      expiresAt: this.now() + SESSION_LIFETIME_MS,
    };
    this.sessions.set(session.id, session);
    const uploadUrl = `${call.origin}/api/v2.0/Users('${call.mailbox.userId}')/Messages('${draftId}')/AttachmentSessions('${session.id}')?authtoken=${session.token}`;
    const body: UploadSession & { '@odata.context': string } = {
      '@odata.context': `${call.origin}/v1.0/$metadata#microsoft.graph.uploadSession`,
      uploadUrl,
      expirationDateTime: new Date(session.expiresAt).toISOString(),
      nextExpectedRanges: ['0-'],
    };
    return graphJson(201, body);
  }

  /** One PUT of a byte range to an upload URL. */
  put(request: EmulatorRequest): EmulatorResponse {
    const id = UPLOAD_PATH.exec(request.path)?.[1] ?? '';
    const session = this.sessions.get(id);
    if (!session || request.url.searchParams.get('authtoken') !== session.token) {
      return graphError(401, 'InvalidAuthenticationToken', 'The upload URL is not valid.');
    }
    if (request.method === 'DELETE') {
      this.sessions.delete(id);
      return { status: 204, body: null };
    }
    if (request.method !== 'PUT') return graphError(405, 'BadRequest', `The HTTP method '${request.method}' is not allowed on this resource.`);
    // The URL is pre-authenticated: a bearer token is refused, not ignored.
    if (request.headers.authorization !== undefined) return graphError(400, 'BadRequest', 'Do not send an Authorization header to an upload URL.');
    if (this.now() > session.expiresAt) {
      this.sessions.delete(id);
      return graphError(404, 'ErrorItemNotFound', 'The upload session has expired.');
    }
    const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(request.headers['content-range'] ?? ''));
    if (!range) return graphError(400, 'InvalidContentRange', 'The Content-Range header is missing or malformed.');
    const [start, end, total] = [Number(range[1]), Number(range[2]), Number(range[3])];
    const length = Number(request.headers['content-length']);
    if (total !== session.size) return graphError(400, 'InvalidContentRange', `The total size ${total} differs from the session's ${session.size}.`);
    if (start !== session.next) return graphError(416, 'InvalidContentRange', `The next expected range starts at ${session.next}.`);
    if (end < start || end >= total) return graphError(416, 'InvalidContentRange', 'The range is outside the file.');
    if (end - start + 1 > MAX_UPLOAD_RANGE_BYTES) return graphError(413, 'RequestEntityTooLarge', 'A range carries at most 4 MB.');
    if (length !== end - start + 1 || request.body.length !== length) {
      return graphError(400, 'InvalidContentRange', 'Content-Length does not match the range or the body.');
    }
    session.received.push(request.body);
    session.next = end + 1;
    session.expiresAt = this.now() + SESSION_LIFETIME_MS;
    if (session.next < session.size) {
      const body: UploadSession = { expirationDateTime: new Date(session.expiresAt).toISOString(), nextExpectedRanges: [String(session.next)] };
      return graphJson(200, body);
    }
    this.sessions.delete(id);
    const attachment = {
      id: newAttachmentId(),
      name: session.name,
      contentType: session.contentType,
      content: Buffer.concat(session.received),
      isInline: session.isInline,
      lastModifiedAt: this.now(),
    };
    const draft = session.draft;
    this.store.update(session.mailbox, draft, { attachments: [...draft.attachments, attachment] });
    const location = `${request.url.origin}/api/v2.0/Users('${session.mailbox.userId}')/Messages('${draft.immutableId}')/Attachments('${attachment.id}')`;
    return { status: 201, headers: { location }, body: null };
  }
}
