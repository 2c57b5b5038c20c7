// The user's own exclusions ("keep this mail out of the CRM"): a list of addresses and domains
// applied to every mailbox they connected, through threadlink's ingestion policy. Adding one
// purges the stored mail it now covers and answers with threadlink's purge report; removing one
// lets the mailboxes reconcile and bring that mail back. Grammar and validation are threadlink's
// (POLICY_INVALID): this route only keeps the user's mailboxes in step.
import { Router } from 'express';
import type { PublicConnection } from '@threadlink/core';
import { z } from 'zod';
import { ApiError, parse } from '../http-errors.js';
import type { RouteContext } from './context.js';

const RuleBody = z.strictObject({ rule: z.string().trim().min(1, 'Write an address or a domain').max(320) });

export function policyRoutes({ tl, scope }: RouteContext): Router {
  const router = Router();

  /** The signed-in user's own mailboxes that still sync: their rules are theirs to change. */
  const ownMailboxes = async (): Promise<PublicConnection[]> =>
    (await tl.connections.list(scope)).filter((connection) => connection.userId === scope.userId && connection.status !== 'disconnected');

  const exclusionsOf = async (connections: PublicConnection[]): Promise<string[]> => {
    const all = new Set<string>();
    for (const connection of connections)
      for (const rule of (await tl.policy.get({ ...scope, connectionId: connection.id })).connection?.exclude ?? []) all.add(rule);
    return [...all].sort();
  };

  router.get('/policy', async (_request, response) => {
    const connections = await ownMailboxes();
    response.json({ exclude: await exclusionsOf(connections), mailboxes: connections.length });
  });

  router.post('/policy/exclusions', async (request, response) => {
    const { rule } = parse(RuleBody, request.body ?? {});
    const connections = await ownMailboxes();
    if (connections.length === 0) throw new ApiError(409, 'NO_MAILBOX', 'Connect a mailbox first');
    const report = { messages: 0, links: 0, messageIds: [] as string[] };
    for (const connection of connections) {
      const target = { ...scope, connectionId: connection.id };
      const current = (await tl.policy.get(target)).connection?.exclude ?? [];
      const result = await tl.policy.update({ exclude: [...current.filter((entry) => entry !== rule.toLowerCase()), rule] }, target);
      report.messages += result.purged.messages;
      report.links += result.purged.links;
      report.messageIds.push(...result.purged.messageIds);
    }
    response.json({ rule: rule.toLowerCase(), purged: report, exclude: await exclusionsOf(connections) });
  });

  router.post('/policy/exclusions/remove', async (request, response) => {
    const { rule } = parse(RuleBody, request.body ?? {});
    const connections = await ownMailboxes();
    const resync: string[] = [];
    for (const connection of connections) {
      const target = { ...scope, connectionId: connection.id };
      const current = (await tl.policy.get(target)).connection?.exclude ?? [];
      if (!current.includes(rule.toLowerCase())) continue;
      resync.push(...(await tl.policy.update({ exclude: current.filter((entry) => entry !== rule.toLowerCase()) }, target)).resync);
    }
    response.json({ rule: rule.toLowerCase(), resync: resync.length, exclude: await exclusionsOf(connections) });
  });

  return router;
}
