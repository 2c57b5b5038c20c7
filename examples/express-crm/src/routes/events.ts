// GET /api/events: the page's live feed (Server-Sent Events), scoped to the user's tenant.
import { Router } from 'express';
import type { RouteContext } from './context.js';

export function eventRoutes({ live, scope }: RouteContext): Router {
  const router = Router();
  router.get('/events', (_request, response) => live.attach(scope.tenantId, response));
  return router;
}
