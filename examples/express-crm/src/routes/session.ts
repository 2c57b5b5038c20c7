// GET /api/session: who the page is for and what this server can do, so the page shows the
// right buttons (and the demo controls only in demo mode).
import { Router } from 'express';
import type { RouteContext } from './context.js';

export function sessionRoutes({ config, scope, demo, providers, crm }: RouteContext): Router {
  const router = Router();
  router.get('/session', (_request, response) => {
    response.json({
      mode: config.mode,
      tenantId: scope.tenantId,
      userId: scope.userId,
      providers,
      demo: demo
        ? {
            mailboxes: demo.mailboxes,
            // Who "the client" can be in the demo's send form.
            senders: crm.records().flatMap((record) => (record.contacts ?? []).map((contact) => ({ ...contact, client: record.label }))),
          }
        : null,
    });
  });
  return router;
}
