// The CRM's records and their mail: a client shows whole threads (everything its people
// wrote or received), a project, proposal or work order only the messages linked to it,
// each with the reason it was linked.
import { Router } from 'express';
import { z } from 'zod';
import { ApiError, parse } from '../http-errors.js';
import { threadView } from '../views.js';
import type { RouteContext } from './context.js';

const TimelineParams = z.strictObject({ type: z.string().min(1).max(64), id: z.string().min(1).max(256) });
const TimelineQuery = z.strictObject({
  after: z.string().min(1).max(2048).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(25),
});

export function recordRoutes({ tl, crm, scope }: RouteContext): Router {
  const router = Router();

  router.get('/records', (_request, response) => {
    const records = crm.records();
    response.json({
      records: records.map((record) => ({
        type: record.type,
        id: record.id,
        label: record.label,
        description: record.description,
        contacts: record.contacts ?? [],
        domains: record.domains ?? [],
        reference: record.reference ?? null,
        client: record.clientId ? { id: record.clientId, label: crm.get('client', record.clientId)?.label ?? record.clientId } : null,
      })),
    });
  });

  router.get('/records/:type/:id/timeline', async (request, response) => {
    const params = parse(TimelineParams, request.params);
    const query = parse(TimelineQuery, request.query);
    const record = crm.get(params.type, params.id);
    if (!record) throw new ApiError(404, 'RECORD_NOT_FOUND', `No ${params.type} ${params.id} in the CRM`);
    const reference = crm.ref(record);
    const timeline = await tl.timeline.forRecord(reference, { ...scope, limit: query.limit, after: query.after ?? null });
    response.json({
      record: { type: record.type, id: record.id, label: record.label, description: record.description },
      // Clients show whole conversations; jobs only what was matched to them.
      wholeThreads: record.type === 'client' || record.type === 'contact',
      threads: timeline.threads.map((thread) => threadView(thread, reference)),
      next: timeline.next,
    });
  });

  return router;
}
