// `tl.org.*` (issue 19): connect an organization directly (Google service account) or by admin
// consent (connect.ts), change its selection, apply it (sync), read it, roll its health up, and
// disconnect it.
import { z } from 'zod';
import type { Scope } from '../api.js';
import type { OrgCommands, OrgDirectConnectInput, OrgHealth } from './types.js';
import { checkScope, type CoreContext } from '../context.js';
import { OrgSelection } from '../domain/organization.js';
import { ProviderId, type ConnectionStatus } from '../domain/schemas.js';
import { assessHealth } from '../health/health.js';
import { ThreadlinkError } from '../errors.js';
import { orgFor, orgSupportOf, publicOrganization } from './access.js';
import { createOrgConnectStart } from './connect.js';
import { offboardMailbox } from './mailboxes.js';
import { saveConnectedOrg } from './save.js';
import { syncOrganization } from './sync.js';

const DirectConnect = z.strictObject({
  tenantId: z.string().min(1).max(256),
  userId: z.string().min(1).max(256),
  provider: ProviderId,
  directoryId: z.string().min(1).max(256),
  adminEmail: z.string().min(3).max(320),
  credentials: z.unknown(),
  selection: OrgSelection,
});

const MailboxChange = z.strictObject({
  mailboxes: z.array(z.string().min(3).max(320)).max(10_000).optional(),
  shared: z.array(z.string().min(3).max(320)).max(1_000).optional(),
  groups: z.array(z.string().min(1).max(256)).max(100).optional(),
});

const union = (left: string[], right: string[] | undefined): string[] => [...new Set([...left, ...(right ?? []).map((value) => value.trim().toLowerCase())])];

export function createOrgCommands(context: CoreContext): OrgCommands {
  const { store, clock, events } = context;

  async function connectDirect(input: OrgDirectConnectInput) {
    checkScope({ tenantId: input?.tenantId, userId: input?.userId });
    await context.init();
    const parsed = DirectConnect.parse(input);
    const { organization: support } = orgSupportOf(context, parsed.provider);
    if (!support.connectDirect) throw new ThreadlinkError('INVALID_INPUT', `The provider "${parsed.provider}" connects an organization by admin consent only`);
    const result = await support.connectDirect(
      { directoryId: parsed.directoryId, adminEmail: parsed.adminEmail, credentials: parsed.credentials },
      { logger: context.logger, clock },
    );
    const organization = await saveConnectedOrg(context, parsed, result);
    const report = await syncOrganization(context, organization);
    return { organization: publicOrganization((await store.getOrganization(organization.tenantId, organization.id)) ?? organization), report };
  }

  async function changeSelection(scope: Scope, orgId: string, change: (selection: OrgSelection) => OrgSelection) {
    const organization = await orgFor(context, scope, orgId, 'own');
    const next = { ...organization, selection: OrgSelection.parse(change(organization.selection)), updatedAt: clock.now() };
    await context.orgCache.save(next);
    return syncOrganization(context, next);
  }

  return {
    connect: { start: createOrgConnectStart(context), direct: connectDirect },
    get: async (scope, orgId) => publicOrganization(await orgFor(context, scope, orgId, 'read')),
    async list(scope) {
      const checked = checkScope(scope);
      await context.init();
      return (await store.listOrganizations(checked.tenantId)).map(publicOrganization);
    },
    addMailboxes: (scope, orgId, input) => {
      const parsed = MailboxChange.parse(input);
      return changeSelection(scope, orgId, (selection) => ({
        ...selection,
        mailboxes: union(selection.mailboxes, parsed.mailboxes),
        shared: union(selection.shared, parsed.shared),
        groups: [...new Set([...selection.groups, ...(parsed.groups ?? [])])],
      }));
    },
    removeMailbox: (scope, orgId, email) => {
      const address = z.string().min(3).max(320).parse(email).trim().toLowerCase();
      return changeSelection(scope, orgId, (selection) => ({
        ...selection,
        mailboxes: selection.mailboxes.filter((mailbox) => mailbox !== address),
        shared: selection.shared.filter((mailbox) => mailbox !== address),
      }));
    },
    async assignMailbox(scope, orgId, email, userId) {
      const organization = await orgFor(context, scope, orgId, 'own');
      const address = z.string().min(3).max(320).parse(email).trim().toLowerCase();
      const owner = z.string().min(1).max(256).parse(userId);
      const [connection] = await store.listConnections({ tenantId: organization.tenantId, orgId: organization.id, accountEmail: address });
      if (!connection) throw new ThreadlinkError('CONNECTION_NOT_FOUND', 'The organization has no such mailbox', { details: { orgId: organization.id } });
      await store.patchConnection(connection.id, { userId: owner, updatedAt: clock.now() });
      return { connectionId: connection.id };
    },
    sync: async (scope, orgId) => syncOrganization(context, await orgFor(context, scope, orgId, 'own')),
    async disconnect(scope, orgId) {
      const organization = await orgFor(context, scope, orgId, 'own');
      const { provider } = orgSupportOf(context, organization.provider);
      const owned = await store.listConnections({ tenantId: organization.tenantId, orgId: organization.id });
      for (const connection of owned) await offboardMailbox(context, provider, connection);
      await store.deleteOrganization(organization.tenantId, organization.id);
      context.orgCache.forget(organization.id);
      events.emit('org.disconnected', { orgId: organization.id, tenantId: organization.tenantId, mailboxes: owned.length });
      return { mailboxes: owned.length };
    },
    async health(scope, orgId): Promise<OrgHealth> {
      const organization = await orgFor(context, scope, orgId, 'read');
      const owned = await store.listConnections({ tenantId: organization.tenantId, orgId: organization.id });
      const counts: Partial<Record<ConnectionStatus, number>> = {};
      for (const connection of owned) counts[connection.status] = (counts[connection.status] ?? 0) + 1;
      const now = clock.now();
      return {
        orgId: organization.id,
        status: organization.status,
        lastSyncAt: organization.lastSyncAt,
        counts,
        problems: organization.problems,
        mailboxes: owned.map((connection) => ({
          email: connection.accountEmail,
          kind: connection.mailboxKind ?? 'user',
          ...assessHealth(connection, now, context.thresholds),
        })),
      };
    },
  };
}
