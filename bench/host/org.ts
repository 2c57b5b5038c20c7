// Organization connect in the SDK host (issue 19): `tl.org.connect.direct` for a whole org, timed
// from the call to the last mailbox's `connection.live`. Microsoft organizations connect by admin
// consent; until core's `connect.start` + `/connect/org/callback` land, the bench drives the
// adapter's own `adminConsentUrl` → the emulator's consent page (through the bench process) →
// `completeAdminConsent`, exposed as `connectDirect` (`adminConsentAsDirectConnect`, a test-only path).
import { performance } from 'node:perf_hooks';
import type { MailProvider, Threadlink } from '@threadlink/core';
import type { OrgConnectInput, OrgConnectResult } from './protocol.js';

/** Asks the bench process to complete a consent page on its emulator; resolves to the redirect URL. */
export type Authorize = (input: { provider: 'gmail' | 'outlook'; url: string; email: string }) => Promise<string>;

/** Loaded only by hosts of organization scenarios: the emulators' package stays out of the others' memory figures. */
export async function withBenchAdminConsent(provider: MailProvider, authorize: Authorize): Promise<MailProvider> {
  const { adminConsentAsDirectConnect } = await import('@threadlink/testing');
  return adminConsentAsDirectConnect(provider, (url, email) => authorize({ provider: 'outlook', url, email }));
}

/** Times of `connection.live` per org, recorded from the moment the host starts. */
export function trackOrgLive(tl: Threadlink, epoch: () => number): Map<string, number[]> {
  const live = new Map<string, number[]>();
  tl.on('connection.live', ({ connection }) => {
    if (!connection.orgId) return;
    const times = live.get(connection.orgId) ?? [];
    times.push(epoch());
    live.set(connection.orgId, times);
  });
  return live;
}

export async function connectOrg(tl: Threadlink, live: Map<string, number[]>, epoch: () => number, input: OrgConnectInput): Promise<OrgConnectResult> {
  const { timeoutMs, ...connect } = input;
  const startedAt = epoch();
  const { organization, report } = await tl.org.connect.direct({ tenantId: 't1', userId: 'admin-1', ...connect });
  const returnedAt = epoch();
  const deadline = performance.now() + timeoutMs;
  while ((live.get(organization.id)?.length ?? 0) < report.added.length) {
    if (performance.now() > deadline)
      throw new Error(`${live.get(organization.id)?.length ?? 0} of ${report.added.length} mailboxes live after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const times = live.get(organization.id) ?? [];
  await tl.idle();
  const health = await tl.org.health({ tenantId: 't1', as: 'admin' }, organization.id);
  return {
    orgId: organization.id,
    added: report.added.length,
    problems: report.forbidden.length + report.notFound.length,
    live: health.counts.live ?? 0,
    connectMs: returnedAt - startedAt,
    firstLiveMs: Math.min(...times) - startedAt,
    allLiveMs: Math.max(...times) - startedAt,
    idleMs: epoch() - startedAt,
  };
}
