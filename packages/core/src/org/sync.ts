// Applying an organization's selection (`tl.org.sync`): the directory is read with listMailboxes,
// mailboxes that joined are opened (bounded concurrency) and connected, mailboxes that left are
// offboarded, and the ones the app may not act on are recorded as problems (reported, not retried
// until the next sync). Two syncs of one org never overlap: a lease per org; the second answers
// `inProgress: true` at once. A revoked org grant turns the org and every mailbox needs_reauth.
import type { OrgSyncReport } from './types.js';
import type { CoreContext } from '../context.js';
import type { Organization, OrgMailboxProblem } from '../domain/organization.js';
import type { Connection } from '../domain/schemas.js';
import { isThreadlinkError } from '../errors.js';
import type { DirectoryMailbox } from '../ports/organization.js';
import { randomId } from '../util/clock.js';
import { mapWithConcurrency } from '../util/concurrency.js';
import { orgSupportOf } from './access.js';
import { orgGrant } from './grants.js';
import { connectMailbox, offboardMailbox } from './mailboxes.js';
import { revokeOrganization } from './revocation.js';

/** Mailboxes opened at once: one app token and one cheap read each, far inside Graph's and Gmail's per-app limits. */
const OPEN_CONCURRENCY = 4;
/** How long one sync may hold the org's lease (it is released when the sync ends). */
const SYNC_LEASE_MS = 10 * 60_000;

class OrgRevoked extends Error {}

const emptyReport = (orgId: string): OrgSyncReport => ({
  orgId,
  added: [],
  removed: [],
  forbidden: [],
  notFound: [],
  unchanged: [],
  alreadyConnected: [],
  inProgress: false,
});

export async function syncOrganization(context: CoreContext, organization: Organization): Promise<OrgSyncReport> {
  const report = emptyReport(organization.id);
  if (organization.status === 'needs_reauth') return report;
  const owner = randomId(12);
  const key = `org-sync:${organization.id}`;
  if (!(await context.store.acquireLease({ key, owner, ttlMs: SYNC_LEASE_MS, now: context.clock.now() }))) return { ...report, inProgress: true };
  try {
    return await applySelection(context, organization, report);
  } catch (error) {
    if (!(error instanceof OrgRevoked) && !(isThreadlinkError(error) && error.code === 'AUTH_REVOKED')) throw error;
    context.orgCache.forget(organization.id);
    await revokeOrganization(
      context,
      { tenantId: organization.tenantId, orgId: organization.id, provider: organization.provider },
      'the organization grant was revoked',
    );
    return report;
  } finally {
    await context.store.releaseLease(key, owner);
  }
}

async function applySelection(context: CoreContext, organization: Organization, report: OrgSyncReport): Promise<OrgSyncReport> {
  const { provider, organization: support } = orgSupportOf(context, organization.provider);
  const grant = orgGrant(organization, { ...context, cache: context.orgCache });
  const directory = await support.listMailboxes(grant, organization.selection);
  const wanted = new Map<string, DirectoryMailbox>(directory.map((mailbox) => [mailbox.email.toLowerCase(), mailbox]));
  // One read: the tenant's connections of this provider are the org's own and those it must not
  // take over (a user's own, another org's).
  const tenantConnections = await context.store.listConnections({ tenantId: organization.tenantId, provider: organization.provider });
  const owned = tenantConnections.filter((connection) => connection.orgId === organization.id);
  const byEmail = new Map<string, Connection>(owned.map((connection) => [connection.accountEmail, connection]));
  const heldElsewhere = new Set(
    tenantConnections
      .filter((connection) => connection.orgId !== organization.id && connection.status !== 'disconnected')
      .map((connection) => connection.accountEmail),
  );
  const problems: OrgMailboxProblem[] = [];
  const toOpen = [...wanted.values()].filter((mailbox) => {
    const email = mailbox.email.toLowerCase();
    const existing = byEmail.get(email);
    // 'connecting' at the start of a sync is an open that failed (syncs of one org never overlap, and
    // an open finishes inside its sync): it is opened again, not left half-connected for good.
    if (existing && existing.status !== 'needs_reauth' && existing.status !== 'disconnected' && existing.status !== 'connecting') {
      report.unchanged.push(existing.accountEmail);
      return false;
    }
    if (!existing && heldElsewhere.has(email)) {
      report.alreadyConnected.push(email);
      return false;
    }
    return true;
  });
  await mapWithConcurrency(toOpen, OPEN_CONCURRENCY, async (mailbox) => {
    const opened = await support.openMailbox(grant, mailbox);
    const email = mailbox.email.toLowerCase();
    if (!opened.ok) {
      if (opened.reason === 'revoked') throw new OrgRevoked(opened.message);
      problems.push({ email, mailboxId: mailbox.id, reason: opened.reason, message: opened.message.slice(0, 512), at: context.clock.now() });
      (opened.reason === 'forbidden' ? report.forbidden : report.notFound).push(email);
      return;
    }
    const connection = await connectMailbox(context, provider, organization, mailbox, opened, byEmail.get(email));
    report.added.push(email);
    context.events.emit('org.mailbox.added', { orgId: organization.id, tenantId: organization.tenantId, connectionId: connection.id, kind: mailbox.kind });
  });
  for (const connection of owned) {
    if (wanted.has(connection.accountEmail)) continue;
    await offboardMailbox(context, provider, connection);
    report.removed.push(connection.accountEmail);
    context.events.emit('org.mailbox.removed', { orgId: organization.id, tenantId: organization.tenantId, connectionId: connection.id });
  }
  const current = await context.store.getOrganization(organization.tenantId, organization.id);
  if (current) {
    const now = context.clock.now();
    await context.orgCache.save({ ...current, problems: problems.sort((left, right) => (left.email < right.email ? -1 : 1)), lastSyncAt: now, updatedAt: now });
  }
  for (const list of [report.added, report.removed, report.forbidden, report.notFound, report.unchanged, report.alreadyConnected]) list.sort();
  return report;
}
