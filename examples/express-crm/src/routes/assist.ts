// What threadlink does for the CRM user beyond showing mail: "Draft a reply" (the thread as clean,
// bounded text handed to a pluggable draft function; nothing kept) and "People you email who are
// not in the CRM" (tl.contacts.suggest from stored metadata; one click creates the contact and
// tl.matching.rematch links the history already stored).
import { Router } from 'express';
import { z } from 'zod';
import type { DraftReply } from '../draft.js';
import { parse } from '../http-errors.js';
import type { RouteContext } from './context.js';

const Id = z.strictObject({ id: z.string().min(1).max(512) });
const NewContact = z.strictObject({
  email: z.email().max(320),
  name: z.string().trim().max(200).default(''),
});
/** What the drafting function may read: about 3 000 tokens, the newest messages kept first. */
const DRAFT_BUDGET = { maxTokens: 3_000 };

export function assistRoutes(draft: DraftReply) {
  return ({ tl, crm, scope }: RouteContext): Router => {
    const router = Router();

    router.post('/messages/:id/draft', async (request, response) => {
      const { id } = parse(Id, request.params);
      const context = await tl.messages.draftContext(id, scope, { budget: DRAFT_BUDGET });
      const text = await draft(context);
      // A draft is derived from message content: no cache may keep it.
      response.set('cache-control', 'no-store');
      response.json({ text, messages: context.messages.length, omitted: context.omitted });
    });

    router.get('/contacts/suggestions', async (_request, response) => {
      const suggestions = await tl.contacts.suggest(scope, { limit: 10 });
      response.json({
        suggestions: suggestions.map((suggestion) => ({
          address: suggestion.address,
          name: suggestion.name,
          company: suggestion.company,
          received: suggestion.received,
          sent: suggestion.sent,
          lastExchangeAt: suggestion.lastExchangeAt,
        })),
      });
    });

    router.post('/contacts', async (request, response) => {
      const input = parse(NewContact, request.body);
      const { record, created } = crm.createContact({ name: input.name, email: input.email });
      // The CRM gained a record: link the mail already stored (threads included), as for any new record.
      const { linked } = await tl.matching.rematch({ ...crm.ref(record), emails: [input.email.toLowerCase()] }, scope);
      response.status(created ? 201 : 200).json({ record: { type: record.type, id: record.id, label: record.label }, linked });
    });

    return router;
  };
}
