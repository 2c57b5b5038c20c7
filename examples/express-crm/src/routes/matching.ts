// Match management for the mail panel: why a message is on a record (explain), and the user's
// corrections — unlink it from the record, link it to another one, undo a decision, and re-run
// matching for a record. Corrections are manual links in the store, so a later sync or rematch
// cannot undo them.
import { Router } from 'express';
import type { RecordRef } from '@threadlink/core';
import { z } from 'zod';
import type { Crm, CrmRecord } from '../crm.js';
import { ApiError, parse } from '../http-errors.js';
import type { RouteContext } from './context.js';

const MessageParams = z.strictObject({ id: z.string().min(1).max(512) });
const RecordParams = z.strictObject({ type: z.string().min(1).max(64), id: z.string().min(1).max(256) });
const RecordBody = z.strictObject({ type: z.string().min(1).max(64), id: z.string().min(1).max(256) });

const RULE_SENTENCES: Record<string, string> = {
  'participant.address': 'a contact of the record wrote or received it',
  'participant.domain': "it involves the record's mail domain",
  reference: 'it names the reference number',
  signed_proposal: 'it carries the signed proposal',
  thread: 'an earlier message of the same thread is linked',
  subject: 'the subject matches',
  manual: 'a user linked it by hand',
};

function recordOf(crm: Crm, type: string, id: string): { record: CrmRecord; reference: RecordRef } {
  const record = crm.get(type, id);
  if (!record) throw new ApiError(404, 'RECORD_NOT_FOUND', `No ${type} ${id} in the CRM`);
  return { record, reference: crm.ref(record) };
}

export function matchingRoutes({ tl, crm, scope }: RouteContext): Router {
  const router = Router();

  // Every link, suppressed ones included: the popover shows what a user unlinked, so it can be undone.
  router.get('/messages/:id/links', async (request, response) => {
    const { id } = parse(MessageParams, request.params);
    const links = await tl.matching.explain(id, scope);
    response.json({
      messageId: id,
      links: links
        .sort((a, b) => Number(a.suppressed) - Number(b.suppressed) || b.confidence - a.confidence)
        .map((link) => ({
          type: link.record.type,
          id: link.record.id,
          label: link.record.label ?? crm.get(link.record.type, link.record.id)?.label ?? link.record.id,
          rule: link.rule,
          ruleSentence: RULE_SENTENCES[link.rule] ?? link.rule,
          reason: link.reason,
          confidence: link.confidence,
          manual: link.manual,
          suppressed: link.suppressed,
          createdAt: link.createdAt,
        })),
    });
  });

  router.post('/messages/:id/link', async (request, response) => {
    const { id } = parse(MessageParams, request.params);
    const body = parse(RecordBody, request.body);
    const { reference } = recordOf(crm, body.type, body.id);
    const link = await tl.matching.link(id, reference, scope);
    response.status(201).json({ messageId: id, record: reference, rule: link.rule, reason: link.reason });
  });

  router.post('/messages/:id/unlink', async (request, response) => {
    const { id } = parse(MessageParams, request.params);
    const body = parse(RecordBody, request.body);
    const { reference } = recordOf(crm, body.type, body.id);
    const link = await tl.matching.unlink(id, reference, scope);
    response.json({ messageId: id, record: reference, suppressed: link.suppressed, reason: link.reason });
  });

  // Undo: forget the user's decision; automatic matching applies again.
  router.post('/messages/:id/reset', async (request, response) => {
    const { id } = parse(MessageParams, request.params);
    const body = parse(RecordBody, request.body);
    const { reference } = recordOf(crm, body.type, body.id);
    const reset = await tl.matching.reset(id, reference, scope);
    response.json({ messageId: id, record: reference, reset });
  });

  // The CRM tells threadlink everything that identifies the record, as it would after an edit
  // (a new contact, a new domain): messages already stored are linked without a resync.
  router.post('/records/:type/:id/rematch', async (request, response) => {
    const params = parse(RecordParams, request.params);
    const { record, reference } = recordOf(crm, params.type, params.id);
    const result = await tl.matching.rematch(
      {
        ...reference,
        ...(record.contacts?.length ? { emails: record.contacts.map((contact) => contact.email) } : {}),
        ...(record.domains?.length ? { domains: record.domains } : {}),
        ...(record.reference ? { references: [record.reference] } : {}),
      },
      scope,
    );
    response.json({ record: reference, linked: result.linked });
  });

  return router;
}
