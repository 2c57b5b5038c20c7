// Connecting a mailbox (the provider's consent page, then back to the app), its status and
// back-fill progress, and offboarding: stop the push subscription, revoke the grant, delete
// every stored row, and tell the user what was deleted.
import { Router } from 'express';
import { ProviderId } from '@threadlink/core';
import { z } from 'zod';
import { ApiError, parse } from '../http-errors.js';
import { connectionView } from '../views.js';
import type { RouteContext } from './context.js';

const ProviderParams = z.strictObject({ provider: ProviderId });
const ConnectBody = z.strictObject({
  /** The page's location (`#/project/PRJ-1042`) so the user lands back where they clicked. */
  returnHash: z
    .string()
    .regex(/^#\/[a-z_]{1,32}\/[A-Za-z0-9._~%-]{1,256}$/)
    .optional(),
});
const ConnectionParams = z.strictObject({ id: z.string().min(1).max(256) });

export function connectionRoutes({ tl, scope, demo, providers, origin }: RouteContext): Router {
  const router = Router();

  router.post('/connect/:provider', async (request, response) => {
    const { provider } = parse(ProviderParams, request.params);
    const { returnHash } = parse(ConnectBody, request.body ?? {});
    if (!providers.includes(provider)) throw new ApiError(400, 'PROVIDER_NOT_CONFIGURED', `${provider} is not configured on this server`);
    // The demo knows the mailbox; a real app may pass the signed-in user's address as a hint.
    const loginHint = demo ? (demo.mailboxes as Readonly<Record<string, string | undefined>>)[provider] : undefined;
    const { url, cookie } = await tl.connect.start({
      provider,
      ...scope,
      ...(loginHint ? { loginHint } : {}),
      // After consent the OAuth callback sends the browser back to the page.
      returnTo: `/${returnHash ?? ''}`,
    });
    // Binds the flow to this browser (HttpOnly, sent only to /threadlink/oauth/callback): the
    // callback refuses a consent link opened anywhere else, e.g. forwarded to someone.
    response.append('set-cookie', cookie.header);
    response.json({ url: demo ? demo.browserUrl(url, origin) : url });
  });

  router.get('/connections', async (_request, response) => {
    const connections = await tl.connections.list(scope);
    const health = new Map((await tl.health.all(scope)).map((entry) => [entry.connectionId, entry]));
    response.json({ connections: connections.map((connection) => connectionView(connection, health.get(connection.id))) });
  });

  router.post('/connections/:id/disconnect', async (request, response) => {
    const { id } = parse(ConnectionParams, request.params);
    const connection = await tl.connections.get(id, scope);
    // threadlink refuses it too (not found); this says why to a colleague of a shared mailbox.
    if (connection.userId !== scope.userId) throw new ApiError(403, 'FORBIDDEN', 'Only the mailbox owner can disconnect it');
    const result = await tl.connections.disconnect(id, { ...scope, purge: true });
    response.json({
      connectionId: id,
      provider: connection.provider,
      accountEmail: connection.accountEmail,
      unsubscribed: result.unsubscribed,
      revoked: result.revoked,
      deleted: result.purged ?? { connections: 0, messages: 0, links: 0, other: 0 },
    });
  });

  return router;
}
