// The org grant a mailbox connection of an organization acts with (`ProviderSession.grant`).
// The organization row is cached in process for a short while, so a sync job of an org mailbox
// costs no extra store read in steady state (one read per org per ORG_CACHE_TTL_MS per instance).
// Every write of the org through core (updateCredentials, tl.org.*) refreshes or drops the entry.
import type { Organization } from '../domain/organization.js';
import type { OrgCredentials } from '../domain/organization.js';
import { ThreadlinkError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { MetadataStore } from '../ports/metadata-store.js';
import type { MailboxGrant, OrgGrant } from '../ports/organization.js';
import type { Sealer } from '../security/sealing.js';
import type { Clock } from '../util/clock.js';
import { openOrgCredentials, sealOrgCredentials } from './credentials.js';

/** How long an organization read stays in the in-process cache. */
const ORG_CACHE_TTL_MS = 30_000;

export interface OrgGrantDeps {
  store: MetadataStore;
  sealer: Sealer;
  logger: Logger;
  clock: Clock;
}

export interface OrgCache {
  /** The org (cached up to ORG_CACHE_TTL_MS), or ORGANIZATION_NOT_FOUND. */
  get(tenantId: string, orgId: string): Promise<Organization>;
  /** Saves the org and keeps the saved copy as the cached one. */
  save(organization: Organization): Promise<void>;
  forget(orgId: string): void;
}

export function createOrgCache(deps: Pick<OrgGrantDeps, 'store' | 'clock'>): OrgCache {
  const entries = new Map<string, { organization: Organization; expiresAt: number }>();
  return {
    async get(tenantId, orgId) {
      const entry = entries.get(orgId);
      const now = deps.clock.now();
      if (entry && entry.expiresAt > now && entry.organization.tenantId === tenantId) return structuredClone(entry.organization);
      const organization = await deps.store.getOrganization(tenantId, orgId);
      if (!organization) {
        entries.delete(orgId);
        throw new ThreadlinkError('ORGANIZATION_NOT_FOUND', 'No such organization', { details: { orgId } });
      }
      entries.set(orgId, { organization: structuredClone(organization), expiresAt: now + ORG_CACHE_TTL_MS });
      return organization;
    },
    async save(organization) {
      await deps.store.saveOrganization(organization);
      entries.set(organization.id, { organization: structuredClone(organization), expiresAt: deps.clock.now() + ORG_CACHE_TTL_MS });
    },
    forget(orgId) {
      entries.delete(orgId);
    },
  };
}

/** The org's grant over unsealed credentials; `updateCredentials` re-seals them and saves the org. */
export function orgGrant(organization: Organization, deps: GrantDeps): OrgGrant {
  return buildGrant(organization, deps, {});
}

type GrantDeps = OrgGrantDeps & { cache: OrgCache; signal?: AbortSignal };

function buildGrant<Extra extends object>(organization: Organization, deps: GrantDeps, extra: Extra): OrgGrant & Extra {
  let credentials: OrgCredentials = openOrgCredentials(deps.sealer, organization.sealedCredentials);
  return {
    orgId: organization.id,
    directoryId: organization.directoryId,
    get credentials() {
      return credentials;
    },
    async updateCredentials(next) {
      credentials = next;
      const current = await deps.cache.get(organization.tenantId, organization.id);
      await deps.cache.save({ ...current, sealedCredentials: sealOrgCredentials(deps.sealer, next), updatedAt: deps.clock.now() });
    },
    logger: deps.logger,
    clock: deps.clock,
    ...(deps.signal ? { signal: deps.signal } : {}),
    ...extra,
  };
}

/** The grant of an org mailbox connection: the org's grant plus the mailbox it acts on. */
export async function mailboxGrant(
  connection: { tenantId: string; orgId: string; mailboxId?: string | undefined; id: string },
  deps: GrantDeps,
): Promise<MailboxGrant> {
  if (connection.mailboxId === undefined) {
    throw new ThreadlinkError('INVALID_INPUT', 'An organization connection has no mailboxId', { details: { connectionId: connection.id } });
  }
  const organization = await deps.cache.get(connection.tenantId, connection.orgId);
  return buildGrant(organization, deps, { mailbox: connection.mailboxId });
}
