// Saving an organization whose credentials the admin just gave (admin consent or a direct
// connect): a new org, or the same tenant + provider + directory connected again, which keeps its
// id (so its mailbox connections, their ids and cursors carry over) and becomes `active` again.
import type { CoreContext } from '../context.js';
import type { Organization, OrgSelection } from '../domain/organization.js';
import type { AdminConsentResult } from '../ports/organization.js';
import { stableId } from '../security/hash.js';
import { sealOrgCredentials } from './credentials.js';

export interface OrgOwner {
  tenantId: string;
  userId: string;
  provider: string;
  selection: OrgSelection;
}

export async function saveConnectedOrg(context: CoreContext, owner: OrgOwner, result: AdminConsentResult): Promise<Organization> {
  const now = context.clock.now();
  const existing = (await context.store.listOrganizations(owner.tenantId)).find(
    (organization) => organization.provider === owner.provider && organization.directoryId === result.directoryId,
  );
  const organization: Organization = {
    id: existing?.id ?? stableId('org', owner.tenantId, owner.provider, result.directoryId),
    tenantId: owner.tenantId,
    userId: owner.userId,
    provider: owner.provider,
    directoryId: result.directoryId,
    displayName: result.displayName ?? existing?.displayName ?? null,
    status: 'active',
    sealedCredentials: sealOrgCredentials(context.sealer, result.credentials),
    selection: owner.selection,
    problems: existing?.problems ?? [],
    lastSyncAt: existing?.lastSyncAt ?? null,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
  await context.orgCache.save(organization);
  context.events.emit('org.connected', { orgId: organization.id, tenantId: organization.tenantId, provider: organization.provider });
  return organization;
}
