// threadlink in a web-standard framework: Hono hands over the Request it was given and sends
// back the Response it gets, so tl.handler mounts unchanged — no toNodeHandler, no body parser
// to keep away from the webhooks. The same app runs on Node (@hono/node-server), Bun, Deno or
// a worker runtime; only the store and the listening differ.
import { Hono } from 'hono';
import type { ProviderId, Threadlink } from '@threadlink/core';

/** The signed-in CRM user; a real app reads its session here. */
export type CurrentUser = (request: Request) => { tenantId: string; userId: string };

export function createApp(tl: Threadlink, currentUser: CurrentUser): Hono {
  const app = new Hono();

  // Webhooks and the OAuth callback: every method, every path under createThreadlink's publicUrl.
  app.all('/threadlink/*', (context) => tl.handler(context.req.raw));

  app.post('/connect/:provider', async (context) => {
    const { tenantId, userId } = currentUser(context.req.raw);
    const provider = context.req.param('provider') as ProviderId;
    const { url, cookie } = await tl.connect.start({ provider, tenantId, userId, returnTo: '/' });
    // Binds the flow to this browser: the OAuth callback refuses the state without it.
    context.header('set-cookie', cookie.header, { append: true });
    return context.redirect(url, 303);
  });

  app.get('/records/:type/:id/timeline', async (context) => {
    const { tenantId, userId } = currentUser(context.req.raw);
    const after = context.req.query('after') ?? null;
    const record = { type: context.req.param('type'), id: context.req.param('id') };
    return context.json(await tl.timeline.forRecord(record, { tenantId, userId, limit: 50, after }));
  });

  return app;
}
