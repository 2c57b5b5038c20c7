// tl.org.connect.start + GET /connect/org/callback (issue 19, phase 2), through msal-node and the
// identity emulator's admin-consent page: the admin approves once, the org is saved active and its
// mailboxes go live in the background; the state is sealed, expiring, single-use and bound to the
// admin's browser by the connect cookie; a declined consent leaves no org; connecting the same
// tenant again re-activates the same org with the same mailbox connections.
import { createThreadlink, generateSealingKey, type ConnectCookie, type Threadlink } from '@threadlink/core';
import { systemClock } from '@threadlink/core/provider';
import { outlookProvider } from '@threadlink/outlook';
import { memoryStore } from '@threadlink/storage-memory';
import { serveWebHandler, startGraphEmulator, type GraphEmulator } from '@threadlink/testing';
import { afterEach, describe, expect, it } from 'vitest';

const ADMIN = 'ana@contoso.test';
const PEOPLE = [ADMIN, 'ben@contoso.test', 'cara@contoso.test'];
const SALES = 'sales@contoso.test';
const SCOPE = { tenantId: 't1', as: 'admin' } as const;

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

interface Setup {
  tl: Threadlink;
  ms: GraphEmulator;
  store: ReturnType<typeof memoryStore>;
  now: { ms: number };
  start(returnTo?: string): ReturnType<Threadlink['org']['connect']['start']>;
  /** The admin's browser following the emulator's redirect back to the callback. */
  back(location: string, cookie?: string): Promise<Response>;
}

async function setup(): Promise<Setup> {
  const ms = await startGraphEmulator();
  for (const email of PEOPLE) ms.addMailbox({ email });
  ms.org.makeAdmin(ADMIN);
  ms.org.addSharedMailbox({ email: SALES, name: 'Sales' });
  const store = memoryStore();
  const now = { ms: Date.now() };
  let tl: Threadlink | undefined;
  const host = await serveWebHandler((request) => tl!.handler(request));
  tl = createThreadlink({
    store,
    sealingKeys: [{ id: 'k1', key: generateSealingKey() }],
    providers: [outlookProvider({ ...ms.providerOptions })],
    publicUrl: `${host.url}/threadlink`,
    resolver: { contactsByEmail: async () => [] },
    clock: { now: () => now.ms, sleep: (ms) => systemClock.sleep(ms) },
    maintenanceIntervalMs: 0,
  });
  await tl.start();
  stops.push(async () => {
    await tl.stop();
    await host.close();
    await ms.close();
  });
  const started = tl;
  return {
    tl: started,
    ms,
    store,
    now,
    start: (returnTo) =>
      started.org.connect.start({
        tenantId: 't1',
        userId: 'admin-1',
        provider: 'outlook',
        selection: { all: true, shared: [SALES] },
        ...(returnTo ? { returnTo } : {}),
      }),
    back: (location, cookie) => fetch(location, { redirect: 'manual', ...(cookie === undefined ? {} : { headers: { cookie } }) }),
  };
}

const pair = (cookie: ConnectCookie) => `${cookie.name}=${cookie.value}`;

describe('tl.org.connect.start and the admin-consent callback (Microsoft)', () => {
  it('an admin approves once: the org is saved active, its mailboxes (a shared one too) go live, the browser lands on returnTo', async () => {
    const { tl, ms, store, start, back } = await setup();
    const flow = await start('/settings/org');
    const consentUrl = new URL(flow.url);
    expect(consentUrl.pathname).toBe('/organizations/v2.0/adminconsent');
    expect(consentUrl.searchParams.get('redirect_uri')).toMatch(/\/threadlink\/connect\/org\/callback$/);
    expect(flow.cookie.attributes).toMatchObject({ httpOnly: true, sameSite: 'lax', path: '/threadlink/connect/org/callback' });

    const location = await ms.authorize(flow.url, { email: ADMIN });
    const response = await back(location, pair(flow.cookie));
    expect(response.status).toBe(302);
    const landed = new URL(response.headers.get('location')!);
    expect(landed.pathname).toBe('/settings/org');
    const orgId = landed.searchParams.get('org')!;
    expect(response.headers.get('set-cookie')).toContain(`${flow.cookie.name}=;`);

    await tl.idle();
    const organization = await tl.org.get(SCOPE, orgId);
    expect(organization).toMatchObject({ status: 'active', provider: 'outlook', directoryId: ms.tenantId, userId: 'admin-1' });
    const owned = await store.listConnections({ tenantId: 't1', orgId });
    expect(owned.map((connection) => [connection.accountEmail, connection.status, connection.mailboxKind]).sort()).toEqual([
      [ADMIN, 'live', 'user'],
      ['ben@contoso.test', 'live', 'user'],
      ['cara@contoso.test', 'live', 'user'],
      [SALES, 'live', 'shared'],
    ]);
    expect(new Set(ms.subscriptions().map((subscription) => subscription.mailbox))).toEqual(new Set([ADMIN, 'ben@contoso.test', 'cara@contoso.test', SALES]));
  });

  it('refuses a forged, expired or replayed state, and a missing or mismatched cookie, with OAUTH_STATE_INVALID', async () => {
    const { tl, ms, now, start, back } = await setup();
    const expectRefused = async (response: Response) => {
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 'OAUTH_STATE_INVALID' } });
    };
    const flow = await start();
    const other = await start();
    const location = new URL(await ms.authorize(flow.url, { email: ADMIN }));

    // Missing cookie, another flow's cookie, the right name with another flow's secret.
    for (const cookie of [undefined, pair(other.cookie), `${flow.cookie.name}=${other.cookie.value}`])
      await expectRefused(await back(location.toString(), cookie));
    // A forged state (tampered sealed text).
    const forged = new URL(location);
    forged.searchParams.set('state', `${flow.state.slice(0, -4)}AAAA`);
    await expectRefused(await back(forged.toString(), pair(flow.cookie)));
    // A user connect's state is not an org consent's.
    const userFlow = await tl.connect.start({ provider: 'outlook', tenantId: 't1', userId: 'admin-1' });
    const crossed = new URL(location);
    crossed.searchParams.set('state', userFlow.state);
    await expectRefused(await back(crossed.toString(), pair(userFlow.cookie)));
    expect(await tl.org.list(SCOPE)).toEqual([]);

    // The real browser completes once; the same answer replayed is refused.
    expect((await back(location.toString(), pair(flow.cookie))).status).toBe(200);
    await expectRefused(await back(location.toString(), pair(flow.cookie)));
    await tl.idle();

    // Expired: the admin took longer than the state's lifetime (15 minutes by default).
    const late = await start();
    const lateLocation = await ms.authorize(late.url, { email: ADMIN });
    now.ms += 16 * 60_000;
    await expectRefused(await back(lateLocation, pair(late.cookie)));
  });

  it('a declined consent redirects with the error and saves no org', async () => {
    const { tl, ms, store, start, back } = await setup();
    const flow = await start('/settings/org');
    const declined = await ms.authorize(flow.url, { email: ADMIN, deny: true });
    expect(new URL(declined).searchParams.get('error')).toBe('access_denied');
    const response = await back(declined, pair(flow.cookie));
    expect(response.status).toBe(302);
    expect(new URL(response.headers.get('location')!).searchParams.get('error')).toBe('OAUTH_FAILED');
    expect(await tl.org.list(SCOPE)).toEqual([]);
    expect(await store.listConnections({ tenantId: 't1' })).toEqual([]);
    // The declined answer spent the state: the same link cannot be completed later.
    const again = await back(declined.replace('error=access_denied', 'admin_consent=True'), pair(flow.cookie));
    expect(new URL(again.headers.get('location')!).searchParams.get('error')).toBe('OAUTH_STATE_INVALID');
  });

  it('consenting again after a revocation re-activates the same org: same id, same connections and cursors, mailboxes live again', async () => {
    const { tl, ms, store, start, back } = await setup();
    const first = await start();
    const answer = await back(await ms.authorize(first.url, { email: ADMIN }), pair(first.cookie));
    const { organization } = (await answer.json()) as { organization: { id: string } };
    await tl.idle();
    const before = await store.listConnections({ tenantId: 't1', orgId: organization.id });
    ms.org.revokeAdminConsent();
    // Mail that lands while the org is down is caught up from the kept cursor after re-consent.
    const away = await ms.deliver({ from: 'client@bigco.test', to: 'ben@contoso.test', subject: 'While you were away' });
    expect((await tl.org.sync(SCOPE, organization.id)).added).toEqual([]);
    expect((await tl.org.get(SCOPE, organization.id)).status).toBe('needs_reauth');
    expect((await store.listConnections({ tenantId: 't1', orgId: organization.id })).every((connection) => connection.status === 'needs_reauth')).toBe(true);

    const second = await start();
    const again = await back(await ms.authorize(second.url, { email: ADMIN }), pair(second.cookie));
    expect(((await again.json()) as { organization: { id: string } }).organization.id).toBe(organization.id);
    await tl.idle();
    expect((await tl.org.get(SCOPE, organization.id)).status).toBe('active');
    const after = await store.listConnections({ tenantId: 't1', orgId: organization.id });
    expect(after.map((connection) => connection.id)).toEqual(before.map((connection) => connection.id));
    const ben = after.find((connection) => connection.accountEmail === 'ben@contoso.test')!;
    expect(await store.listProviderMessageIds(ben.id)).toContain(away.id);
    expect(after.every((connection) => connection.status === 'live')).toBe(true);
    expect(await tl.org.list(SCOPE)).toHaveLength(1);
  });
});
