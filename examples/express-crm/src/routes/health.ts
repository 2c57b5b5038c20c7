// GET /api/connections/:id/health: the mailbox health drawer — threadlink's verdict with its
// reason, push and sync times, the lag, and back-fill progress with its ETA. The page turns the
// verdict into a sentence and a fix; this route reports, and POST …/sync is the drawer's
// "Check for mail now".
import { Router } from 'express';
import { z } from 'zod';
import { parse } from '../http-errors.js';
import type { RouteContext } from './context.js';

const ConnectionParams = z.strictObject({ id: z.string().min(1).max(256) });

export function healthRoutes({ tl, scope }: RouteContext): Router {
  const router = Router();
  router.get('/connections/:id/health', async (request, response) => {
    const { id } = parse(ConnectionParams, request.params);
    // connections.get checks the mailbox is the user's before anything about it is shown.
    const connection = await tl.connections.get(id, scope);
    const health = await tl.health(id, scope);
    response.json({
      connectionId: id,
      provider: connection.provider,
      accountEmail: connection.accountEmail,
      status: connection.status,
      verdict: health.verdict,
      reason: health.reason,
      lastPushAt: health.lastPushAt,
      lastSyncAt: health.lastSyncAt,
      syncLagMs: health.syncLagMs,
      subscriptionExpiresAt: health.subscriptionExpiresAt,
      consecutiveErrors: health.consecutiveErrors,
      lastErrorCode: health.lastErrorCode,
      backfill: health.backfill,
    });
  });
  // "Check for mail now" in the drawer: a pull, coalesced with any pending one.
  router.post('/connections/:id/sync', async (request, response) => {
    const { id } = parse(ConnectionParams, request.params);
    await tl.connections.get(id, scope);
    await tl.connections.sync(id, scope);
    response.status(202).json({ connectionId: id, requested: true });
  });
  return router;
}
