// Who may see and change an organization: reads are open to the tenant's scopes, changes to an
// admin scope or the user who connected it. Another tenant's org is ORGANIZATION_NOT_FOUND (its
// existence is not revealed).
import type { Scope } from '../api.js';
import { checkScope, type CoreContext } from '../context.js';
import type { Organization } from '../domain/organization.js';
import { ThreadlinkError } from '../errors.js';

export async function orgFor(context: CoreContext, rawScope: Scope, orgId: string, access: 'read' | 'own'): Promise<Organization> {
  const scope = checkScope(rawScope);
  await context.init();
  const organization = typeof orgId === 'string' && orgId !== '' ? await context.store.getOrganization(scope.tenantId, orgId) : null;
  const allowed = organization !== null && (access === 'read' || scope.as === 'admin' || organization.userId === scope.userId);
  if (!organization || !allowed) throw new ThreadlinkError('ORGANIZATION_NOT_FOUND', 'No such organization', { details: { orgId: String(orgId) } });
  return organization;
}

/** The provider's organization support, or INVALID_INPUT for a provider without it. */
export function orgSupportOf(context: CoreContext, providerId: string) {
  const provider = context.providerOf(providerId);
  if (!provider.organization) {
    throw new ThreadlinkError('INVALID_INPUT', `The provider "${providerId}" cannot connect an organization`, { details: { provider: providerId } });
  }
  return { provider, organization: provider.organization };
}

/** The org as reads and events expose it: no sealed credentials. */
export type PublicOrganization = Omit<Organization, 'sealedCredentials'>;

export function publicOrganization(organization: Organization): PublicOrganization {
  const { sealedCredentials: _sealed, ...rest } = organization;
  return rest;
}
