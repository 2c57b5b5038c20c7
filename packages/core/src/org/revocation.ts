// The org grant was revoked (admin consent withdrawn, service-account key deleted): the org and
// every mailbox it owns turn needs_reauth at once, in one store pass, instead of one by one as
// each mailbox's next job fails. Reached from a failed job of any org mailbox (engine/job-outcome.ts)
// and from a sync that finds the grant gone (sync.ts). Announced once per org however many
// mailbox jobs fail together: the store tells which caller moved it.
import type { ThreadlinkEventListeners } from '../api.js';
import { publicConnection } from '../events.js';
import type { MetadataStore } from '../ports/metadata-store.js';
import type { Clock } from '../util/clock.js';
import type EventEmitter from 'eventemitter3';

interface RevocationDeps {
  store: MetadataStore;
  clock: Clock;
  events: EventEmitter<ThreadlinkEventListeners>;
}

export async function revokeOrganization(deps: RevocationDeps, org: { tenantId: string; orgId: string; provider: string }, reason: string): Promise<void> {
  const { organizationChanged, connections } = await deps.store.markOrganizationNeedsReauth(org.tenantId, org.orgId, {
    at: deps.clock.now(),
    errorCode: 'AUTH_REVOKED',
  });
  for (const connection of connections) deps.events.emit('connection.needs_reauth', { connection: publicConnection(connection), reason });
  if (organizationChanged) deps.events.emit('org.needs_reauth', { orgId: org.orgId, tenantId: org.tenantId, provider: org.provider, reason });
}
