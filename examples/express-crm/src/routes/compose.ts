// Attachments opened from the panel, and "New email" on a record. An attachment streams from the
// provider straight into the response (never buffered, never stored) as a download: sanitised
// file name, a plain content type, nosniff and a sandboxing CSP, so a hostile "invoice.html"
// cannot run in this origin. A new message goes out from the user's mailbox and is linked to the
// record it was written on.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { attachmentResponseHeaders } from '@threadlink/core';
import { Router } from 'express';
import { z } from 'zod';
import { ApiError, parse } from '../http-errors.js';
import { messageView } from '../views.js';
import type { RouteContext } from './context.js';

const AttachmentParams = z.strictObject({ id: z.string().min(1).max(512), attachmentId: z.string().min(1).max(2048) });
const RecordParams = z.strictObject({ type: z.string().min(1).max(64), id: z.string().min(1).max(256) });
const ComposeBody = z.strictObject({
  connectionId: z.string().min(1).max(256).optional(),
  /** Comma-separated, as people type them. */
  to: z
    .string()
    .max(10_000)
    .transform((value) =>
      value
        .split(/[,;]/)
        .map((address) => address.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.email('Enter the recipients’ email addresses, separated by commas')).min(1, 'Add at least one recipient').max(50)),
  subject: z.string().trim().max(998),
  text: z.string().trim().min(1, 'Write something to send').max(20_000),
});

/** The example's cap per download: a CRM panel opens proposals and photos, not archives. */
const MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024;

export function composeRoutes({ tl, crm, scope }: RouteContext): Router {
  const router = Router();

  router.get('/messages/:id/attachments/:attachmentId', async (request, response) => {
    const { id, attachmentId } = parse(AttachmentParams, request.params);
    const download = await tl.messages.attachment(id, attachmentId, { ...scope, maxBytes: MAX_ATTACHMENT_BYTES });
    response.set(attachmentResponseHeaders(download));
    // A client that goes away cancels the provider download too (pipeline destroys the source).
    await pipeline(Readable.fromWeb(download.stream as unknown as NodeReadableStream<Uint8Array>), response);
  });

  router.post('/records/:type/:id/compose', async (request, response) => {
    const record = parse(RecordParams, request.params);
    const input = parse(ComposeBody, request.body);
    const known = crm.get(record.type, record.id);
    if (!known) throw new ApiError(404, 'NOT_FOUND', 'No such record');
    const connections = (await tl.connections.list(scope)).filter((connection) => connection.status !== 'disconnected');
    const connection = input.connectionId ? connections.find((candidate) => candidate.id === input.connectionId) : connections[0];
    if (!connection) throw new ApiError(409, 'NO_MAILBOX', 'Connect a mailbox before sending mail');
    const sent = await tl.messages.send({
      ...scope,
      connectionId: connection.id,
      to: input.to.map((address) => ({ address })),
      subject: input.subject,
      text: input.text,
      links: [crm.ref(known)],
    });
    response.status(201).json({ message: sent.message ? messageView(sent.message, crm.ref(known)) : null });
  });

  return router;
}
