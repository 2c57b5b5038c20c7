// Organization connect in the SDK host (issue 19), timed from the call to the last mailbox's
// `connection.live`: Google by `tl.org.connect.direct` (a service account key), Microsoft as a host
// does it — `tl.org.connect.start`, the tenant admin on the emulator's consent page (through the
// bench process, `authorize`), the admin's browser back at `/connect/org/callback` with its cookie.
import { performance } from 'node:perf_hooks';
import type { Threadlink } from '@threadlink/core';
import type { OrgConnectInput, OrgConnectResult } from './protocol.js';

/** Asks the bench process to complete a consent page on its emulator; resolves to the redirect URL. */
export type Authorize = (input: { provider: 'gmail' | 'outlook'; url: string; email: string }) => Promise<string>;

const SCOPE = { tenantId: 't1', userId: 'admin-1' } as const;

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

async function byAdminConsent(tl: Threadlink, authorize: Authorize, input: OrgConnectInput): Promise<string> {
  const flow = await tl.org.connect.start({ ...SCOPE, provider: input.provider, selection: input.selection, returnTo: '/org-connected' });
  const callback = await authorize({ provider: input.provider, url: flow.url, email: input.adminEmail });
  const response = await fetch(callback, { redirect: 'manual', headers: { cookie: `${flow.cookie.name}=${flow.cookie.value}` } });
  const orgId = new URL(response.headers.get('location') ?? '', callback).searchParams.get('org');
  if (response.status !== 302 || !orgId) throw new Error(`the admin-consent callback answered ${response.status} (${response.headers.get('location')})`);
  return orgId;
}

async function direct(tl: Threadlink, input: OrgConnectInput): Promise<string> {
  const { provider, directoryId, adminEmail, credentials, selection } = input;
  return (await tl.org.connect.direct({ ...SCOPE, provider, directoryId, adminEmail, credentials, selection })).organization.id;
}

export async function connectOrg(
  tl: Threadlink,
  live: Map<string, number[]>,
  epoch: () => number,
  authorize: Authorize,
  input: OrgConnectInput,
): Promise<OrgConnectResult> {
  const startedAt = epoch();
  const orgId = input.provider === 'outlook' ? await byAdminConsent(tl, authorize, input) : await direct(tl, input);
  const returnedAt = epoch();
  const deadline = performance.now() + input.timeoutMs;
  while ((live.get(orgId)?.length ?? 0) < input.expected) {
    if (performance.now() > deadline) throw new Error(`${live.get(orgId)?.length ?? 0} of ${input.expected} mailboxes live after ${input.timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const times = live.get(orgId) ?? [];
  await tl.idle();
  const health = await tl.org.health({ tenantId: 't1', as: 'admin' }, orgId);
  return {
    orgId,
    problems: health.problems.length,
    live: health.counts.live ?? 0,
    connectMs: returnedAt - startedAt,
    firstLiveMs: Math.min(...times) - startedAt,
    allLiveMs: Math.max(...times) - startedAt,
    idleMs: epoch() - startedAt,
  };
}
