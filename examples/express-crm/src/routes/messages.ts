// One thread, one body (fetched from the provider now, sanitised, never stored) and a reply
// that goes out from the user's own mailbox in the same thread.
import { Router } from 'express';
import { z } from 'zod';
import { ApiError, parse } from '../http-errors.js';
import { messageView } from '../views.js';
import type { RouteContext } from './context.js';

const Id = z.strictObject({ id: z.string().min(1).max(512) });
const ReplyBody = z.strictObject({
  text: z.string().trim().min(1, 'Write something to send').max(20_000),
  replyAll: z.boolean().optional(),
});

export function messageRoutes({ tl, scope }: RouteContext): Router {
  const router = Router();

  router.get('/threads/:id', async (request, response) => {
    const { id } = parse(Id, request.params);
    const messages = await tl.timeline.thread(id, scope);
    if (messages.length === 0) throw new ApiError(404, 'NOT_FOUND', 'No such thread');
    response.json({ threadId: id, subject: messages[0]?.subject ?? '', messages: messages.map((message) => messageView(message)) });
  });

  router.get('/messages/:id/body', async (request, response) => {
    const { id } = parse(Id, request.params);
    const body = await tl.messages.body(id, scope);
    // The body is the one thing here that is not metadata: no cache may keep it.
    response.set('cache-control', 'no-store');
    response.json({ messageId: body.messageId, html: body.html, text: body.text, attachments: body.attachments });
  });

  router.post('/messages/:id/reply', async (request, response) => {
    const { id } = parse(Id, request.params);
    const input = parse(ReplyBody, request.body);
    const sent = await tl.messages.reply(id, { ...scope, text: input.text, ...(input.replyAll ? { replyAll: true } : {}) });
    response.status(201).json({ message: messageView({ ...sent, links: [] }) });
  });

  return router;
}
