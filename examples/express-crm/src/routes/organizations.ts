// "Connect your organization": one admin approval for a customer's mailboxes (tl.org.*). Google
// Workspace connects directly with the service-account key the admin created (domain-wide
// delegation); Microsoft 365 by the admin-consent redirect (tl.org.connect.start); the roll-up health view, "Sync directory now" and "Disconnect organization" work
// for every organization of the tenant the signed-in user can see.
import { Router } from 'express';
import { EmailAddress, type OrgHealth, type PublicOrganization } from '@threadlink/core';
import { z } from 'zod';
import { ApiError, parse } from '../http-errors.js';
import type { RouteContext } from './context.js';

const Selection = z.strictObject({
  all: z.boolean().default(false),
  groups: z.array(z.string().trim().min(1).max(256)).max(100).default([]),
  mailboxes: z.array(EmailAddress).max(10_000).default([]),
  shared: z.array(EmailAddress).max(1_000).default([]),
});

const GoogleConnectBody = z.strictObject({
  domain: z.string().trim().min(1).max(256),
  adminEmail: EmailAddress,
  /** The key file's JSON as pasted; core validates its fields and seals it. */
  serviceAccountKey: z.string().trim().min(2).max(20_000),
  selection: Selection,
});

const MicrosoftConnectBody = z.strictObject({
  selection: Selection,
  /** The page's location (`#/client/bigco`) so the admin lands back where they clicked. */
  returnHash: z
    .string()
    .regex(/^#\/[a-z_]{1,32}\/[A-Za-z0-9._~%-]{1,256}$/)
    .optional(),
});

const OrgParams = z.strictObject({ id: z.string().min(1).max(256) });

function parseKeyFile(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(400, 'INVALID_KEY_FILE', 'The service-account key is not valid JSON: paste the whole key file');
  }
}

/** The roll-up: the organization with its health (status, counts, problems, per-mailbox rows). */
function orgView(organization: PublicOrganization, health: OrgHealth) {
  return {
    id: organization.id,
    provider: organization.provider,
    directoryId: organization.directoryId,
    displayName: organization.displayName,
    selection: organization.selection,
    status: health.status,
    lastSyncAt: health.lastSyncAt,
    counts: health.counts,
    problems: health.problems.map((problem) => ({ email: problem.email, reason: problem.reason, message: problem.message, at: problem.at })),
    mailboxes: health.mailboxes.map((mailbox) => ({
      connectionId: mailbox.connectionId,
      email: mailbox.email,
      kind: mailbox.kind,
      status: mailbox.status,
      verdict: mailbox.verdict,
      reason: mailbox.reason,
      lastSyncAt: mailbox.lastSyncAt,
    })),
  };
}

export function organizationRoutes({ tl, scope, demo, providers, origin }: RouteContext): Router {
  const router = Router();
  const view = async (organization: PublicOrganization) => orgView(organization, await tl.org.health(scope, organization.id));

  router.get('/orgs', async (_request, response) => {
    const organizations = await tl.org.list(scope);
    response.json({ organizations: await Promise.all(organizations.map(view)) });
  });

  // Demo only: what the emulated Workspace admin hands over (a key of the emulator's, never a real one).
  router.get('/demo/organization', (_request, response) => {
    if (!demo) throw new ApiError(404, 'NOT_DEMO', 'The demo organization only exists in demo mode');
    response.set('cache-control', 'no-store').json(demo.organization);
  });

  router.post('/orgs/gmail', async (request, response) => {
    if (!providers.includes('gmail')) throw new ApiError(400, 'PROVIDER_NOT_CONFIGURED', 'gmail is not configured on this server');
    const input = parse(GoogleConnectBody, request.body);
    const { organization, report } = await tl.org.connect.direct({
      ...scope,
      provider: 'gmail',
      directoryId: input.domain,
      adminEmail: input.adminEmail,
      credentials: parseKeyFile(input.serviceAccountKey),
      selection: input.selection,
    });
    response.status(201).json({ organization: await view(organization), report });
  });

  // Microsoft 365: the admin-consent page, then back through tl.handler's /connect/org/callback,
  // which saves the org and opens its mailboxes; the browser lands on `/?org=<id>#…`.
  router.post('/orgs/outlook', async (request, response) => {
    if (!providers.includes('outlook')) throw new ApiError(400, 'PROVIDER_NOT_CONFIGURED', 'outlook is not configured on this server');
    const input = parse(MicrosoftConnectBody, request.body);
    const { url, cookie } = await tl.org.connect.start({ ...scope, provider: 'outlook', selection: input.selection, returnTo: `/${input.returnHash ?? ''}` });
    // Binds the flow to this browser (HttpOnly, sent only to the org callback path).
    response.append('set-cookie', cookie.header);
    response.json({ url: demo ? demo.browserUrl(url, origin) : url });
  });

  router.get('/orgs/:id', async (request, response) => {
    const { id } = parse(OrgParams, request.params);
    response.json(await view(await tl.org.get(scope, id)));
  });

  router.post('/orgs/:id/sync', async (request, response) => {
    const { id } = parse(OrgParams, request.params);
    const report = await tl.org.sync(scope, id);
    response.json({ report, organization: await view(await tl.org.get(scope, id)) });
  });

  router.post('/orgs/:id/disconnect', async (request, response) => {
    const { id } = parse(OrgParams, request.params);
    response.json(await tl.org.disconnect(scope, id));
  });

  return router;
}
