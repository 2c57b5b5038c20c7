// tl.org.* (issue 19, phase 1) against an in-test provider whose `organization` support serves a
// directory: one direct connect makes every chosen mailbox (people and a shared one) a live
// connection owned by the org; sync picks up joiners and offboards leavers (rows purged, no
// revoke); a forbidden mailbox is reported, not connected; a revoked grant turns everything
// needs_reauth; disconnect leaves no row; another tenant can neither see nor touch the org.
import { isThreadlinkError, ThreadlinkError, type ThreadlinkEvents } from '@threadlink/core';
import type { DirectoryMailbox, OrganizationSupport } from '@threadlink/core/provider';
import { memoryStore, memoryStoreRaw } from '@threadlink/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { startedHarness } from './support/harness.js';
import { scriptedMailbox } from './support/scripted-provider.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

const PRIVATE_KEY = '-----BEGIN PRIVATE KEY-----\nMIIEvQ-canary-private-key\n-----END PRIVATE KEY-----';
const ADMIN = { tenantId: 't1', as: 'admin' } as const;

function person(email: string, kind: DirectoryMailbox['kind'] = 'user'): DirectoryMailbox {
  return { id: `id-${email}`, email, displayName: email.split('@')[0]!, kind };
}

/** `address`: the mailbox a user of the tenant connects themselves through the user connect flow. */
async function orgHarness(overrides: Parameters<typeof startedHarness>[0] = {}, address = 'unused@acme.example') {
  const mailbox = scriptedMailbox(address, 'gmail');
  mailbox.add({ subject: 'history PRJ-1042' });
  const directory = new Map<string, DirectoryMailbox>(['ana@acme.example', 'bo@acme.example', 'cy@acme.example'].map((email) => [email, person(email)]));
  directory.set('sales@acme.example', person('sales@acme.example', 'shared'));
  const forbidden = new Set<string>(['cy@acme.example']);
  const calls = { open: [] as string[], list: 0, revoked: false };
  const organization: OrganizationSupport = {
    async connectDirect(input) {
      const key = input.credentials as { client_email: string; private_key: string };
      return {
        directoryId: input.directoryId,
        displayName: 'Acme',
        credentials: { kind: 'google-service-account', clientEmail: key.client_email, privateKey: key.private_key, adminEmail: input.adminEmail },
      };
    },
    async listMailboxes(grant, selection) {
      calls.list += 1;
      if (calls.revoked) throw new ThreadlinkError('AUTH_REVOKED', 'unauthorized_client');
      expect(grant.credentials).toMatchObject({ kind: 'google-service-account', privateKey: PRIVATE_KEY });
      const chosen = selection.all ? [...directory.keys()] : [...selection.mailboxes, ...selection.shared];
      return chosen.flatMap((email) => directory.get(email) ?? []);
    },
    async openMailbox(_grant, found) {
      calls.open.push(found.email);
      if (calls.revoked) return { ok: false, reason: 'revoked', message: 'invalid_grant' };
      if (forbidden.has(found.email)) return { ok: false, reason: 'forbidden', message: 'Not delegated' };
      return { ok: true, tokens: { accessToken: `app-token-${found.email}` }, scopes: ['gmail.metadata'], displayName: found.displayName };
    },
  };
  mailbox.provider = { ...mailbox.provider, organization };
  const store = memoryStore();
  const { tl } = await startedHarness({ store, ...overrides }, mailbox);
  stops.push(() => tl.stop());
  const events: Array<{ name: string; payload: unknown }> = [];
  for (const name of ['org.connected', 'org.mailbox.added', 'org.mailbox.removed', 'org.needs_reauth', 'org.disconnected'] as const) {
    tl.events.on(name, (payload: ThreadlinkEvents[typeof name]) => events.push({ name, payload }));
  }
  const connect = () =>
    tl.org.connect.direct({
      tenantId: 't1',
      userId: 'admin-1',
      provider: 'gmail',
      directoryId: 'acme.example',
      adminEmail: 'it@acme.example',
      credentials: { client_email: 'sync@acme.iam.gserviceaccount.com', private_key: PRIVATE_KEY },
      selection: { mailboxes: ['ana@acme.example', 'bo@acme.example', 'cy@acme.example'], shared: ['sales@acme.example'] },
    });
  return { tl, store, mailbox, directory, forbidden, calls, connect, events };
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => null,
    (caught: unknown) => caught,
  );
  expect(isThreadlinkError(error) ? error.code : error).toBe(code);
}

describe('tl.org (organization-wide connect)', () => {
  it('connects every chosen mailbox, the shared one too, and reports the forbidden one without connecting it', async () => {
    const { tl, store, connect, calls, events, mailbox } = await orgHarness();
    const { organization, report } = await connect();
    await tl.idle();
    expect(report).toMatchObject({ added: ['ana@acme.example', 'bo@acme.example', 'sales@acme.example'], forbidden: ['cy@acme.example'], removed: [] });
    expect(organization).toMatchObject({ status: 'active', directoryId: 'acme.example', problems: [{ email: 'cy@acme.example', reason: 'forbidden' }] });
    expect(organization).not.toHaveProperty('sealedCredentials');
    const owned = await store.listConnections({ tenantId: 't1', orgId: organization.id });
    expect(owned.map((connection) => [connection.accountEmail, connection.status, connection.mailboxKind])).toEqual([
      ['ana@acme.example', 'live', 'user'],
      ['bo@acme.example', 'live', 'user'],
      ['sales@acme.example', 'live', 'shared'],
    ]);
    // Back-filled like a user's connection.
    for (const connection of owned) expect(await store.listProviderMessageIds(connection.id)).toEqual(mailbox.ids());
    expect(mailbox.calls.subscribe).toBe(3);
    // The key is sealed at rest: no row holds it.
    expect(JSON.stringify(await memoryStoreRaw(store).dump())).not.toContain('canary-private-key');
    expect(JSON.stringify(events)).not.toContain('canary-private-key');
    expect(events.filter((event) => event.name === 'org.mailbox.added')).toHaveLength(3);

    const health = await tl.org.health({ tenantId: 't1', userId: 'someone' }, organization.id);
    expect(health).toMatchObject({ status: 'active', counts: { live: 3 }, problems: [{ email: 'cy@acme.example', reason: 'forbidden' }] });
    expect(health.mailboxes.map((entry) => [entry.email, entry.kind, entry.verdict])).toEqual([
      ['ana@acme.example', 'user', 'healthy'],
      ['bo@acme.example', 'user', 'healthy'],
      ['sales@acme.example', 'shared', 'healthy'],
    ]);
    // Forbidden is not retried in the background: only the next sync asks again.
    calls.open.length = 0;
    await tl.maintain();
    await tl.idle();
    expect(calls.open).toEqual([]);
    expect((await tl.org.sync(ADMIN, organization.id)).forbidden).toEqual(['cy@acme.example']);
    expect(calls.open).toEqual(['cy@acme.example']);
  });

  it('picks up a mailbox added to the selection and offboards one removed: rows purged, push stopped, grant kept', async () => {
    const { tl, store, connect, mailbox, directory, events } = await orgHarness();
    const { organization } = await connect();
    await tl.idle();
    directory.set('dee@acme.example', person('dee@acme.example'));
    const added = await tl.org.addMailboxes(ADMIN, organization.id, { mailboxes: ['Dee@acme.example'] });
    expect(added).toMatchObject({ added: ['dee@acme.example'], removed: [], unchanged: ['ana@acme.example', 'bo@acme.example', 'sales@acme.example'] });
    await tl.idle();

    const bo = (await store.listConnections({ tenantId: 't1', accountEmail: 'bo@acme.example' }))[0]!;
    expect(await store.listProviderMessageIds(bo.id)).not.toEqual([]);
    const removed = await tl.org.removeMailbox(ADMIN, organization.id, 'bo@acme.example');
    expect(removed).toMatchObject({ added: [], removed: ['bo@acme.example'] });
    expect(await store.getConnection(bo.id)).toBeNull();
    expect(await store.listProviderMessageIds(bo.id)).toEqual([]);
    expect(JSON.stringify(await memoryStoreRaw(store).dump())).not.toContain(bo.id);
    expect(mailbox.calls.unsubscribe).toBe(1);
    expect(mailbox.calls.revoke).toBe(0);
    expect(events.filter((event) => event.name === 'org.mailbox.removed')).toEqual([
      { name: 'org.mailbox.removed', payload: { orgId: organization.id, tenantId: 't1', connectionId: bo.id } },
    ]);
    expect((await tl.org.get(ADMIN, organization.id)).selection.mailboxes).toEqual(['ana@acme.example', 'cy@acme.example', 'dee@acme.example']);
  });

  it('runs two syncs of one org at once without connecting a mailbox twice', async () => {
    const { tl, store, connect, directory, calls } = await orgHarness();
    const { organization } = await connect();
    await tl.idle();
    calls.open.length = 0;
    directory.set('fay@acme.example', person('fay@acme.example'));
    // The selection changes without a sync (as another instance's addMailboxes would have saved it).
    const saved = (await store.getOrganization('t1', organization.id))!;
    await store.saveOrganization({ ...saved, selection: { ...saved.selection, mailboxes: [...saved.selection.mailboxes, 'fay@acme.example'] } });
    const reports = await Promise.all([tl.org.sync(ADMIN, organization.id), tl.org.sync(ADMIN, organization.id)]);
    await tl.idle();
    expect(reports.map((report) => report.inProgress).sort()).toEqual([false, true]);
    expect(calls.open.filter((email) => email === 'fay@acme.example')).toEqual(['fay@acme.example']);
    const emails = (await store.listConnections({ tenantId: 't1', orgId: organization.id })).map((connection) => connection.accountEmail);
    expect(emails).toEqual([...new Set(emails)]);
    expect(emails).toContain('fay@acme.example');
  });

  it('turns the org and every mailbox needs_reauth when the grant is revoked', async () => {
    const { tl, store, connect, calls, events } = await orgHarness();
    const { organization } = await connect();
    await tl.idle();
    calls.revoked = true;
    await tl.org.sync(ADMIN, organization.id);
    expect((await tl.org.get(ADMIN, organization.id)).status).toBe('needs_reauth');
    const statuses = (await store.listConnections({ tenantId: 't1', orgId: organization.id })).map((connection) => connection.status);
    expect(statuses).toEqual(['needs_reauth', 'needs_reauth', 'needs_reauth']);
    expect(events.filter((event) => event.name === 'org.needs_reauth')).toHaveLength(1);
    expect((await tl.org.health(ADMIN, organization.id)).counts).toEqual({ needs_reauth: 3 });
  });

  it('one mailbox job failing AUTH_REVOKED turns the org and every mailbox needs_reauth at once, announced once', async () => {
    const { tl, store, connect, mailbox, events } = await orgHarness();
    const { organization } = await connect();
    await tl.idle();
    const [ana, ...others] = await store.listConnections({ tenantId: 't1', orgId: organization.id });
    const pulls = mailbox.calls.pull;
    mailbox.failPulls.push(new ThreadlinkError('AUTH_REVOKED', 'AADSTS7000229: the app was removed from the tenant'));
    await tl.connections.sync(ana!.id, ADMIN);
    await tl.idle();
    // Only the one job ran: the others were parked without waiting for their own jobs to fail.
    expect(mailbox.calls.pull).toBe(pulls + 1);
    expect((await tl.org.get(ADMIN, organization.id)).status).toBe('needs_reauth');
    for (const connection of await store.listConnections({ tenantId: 't1', orgId: organization.id })) {
      expect(connection).toMatchObject({ status: 'needs_reauth', health: { lastErrorCode: 'AUTH_REVOKED' } });
    }
    expect(events.filter((event) => event.name === 'org.needs_reauth')).toEqual([
      { name: 'org.needs_reauth', payload: { orgId: organization.id, tenantId: 't1', provider: 'gmail', reason: expect.stringContaining('AADSTS7000229') } },
    ]);
    // The other mailboxes' jobs do nothing any more: parked, not retried.
    for (const connection of others) await tl.connections.sync(connection.id, ADMIN);
    await tl.idle();
    expect(mailbox.calls.pull).toBe(pulls + 1);
  });

  it('maintain() re-reads the directory of an org due after orgSyncIntervalMs (6 h by default): a leaver is offboarded', async () => {
    const now = { ms: 1_800_000_000_000 };
    const clock = { now: () => now.ms, sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.min(ms, 5))) };
    const { tl, store, connect, directory, calls, events } = await orgHarness({ clock });
    const { organization } = await connect();
    await tl.idle();
    directory.delete('bo@acme.example');
    const lists = calls.list;

    now.ms += 6 * 60 * 60_000 - 1;
    expect((await tl.maintain()).orgSyncs).toBe(0);
    expect(calls.list).toBe(lists);
    expect(await store.listConnections({ tenantId: 't1', accountEmail: 'bo@acme.example' })).toHaveLength(1);

    now.ms += 1;
    expect((await tl.maintain()).orgSyncs).toBe(1);
    await tl.idle();
    expect(calls.list).toBe(lists + 1);
    expect(await store.listConnections({ tenantId: 't1', accountEmail: 'bo@acme.example' })).toEqual([]);
    expect(events.filter((event) => event.name === 'org.mailbox.removed')).toHaveLength(1);
    expect((await tl.org.get(ADMIN, organization.id)).lastSyncAt).toBe(now.ms);
    // Synced: not due again until another interval has passed.
    expect((await tl.maintain()).orgSyncs).toBe(0);
  });

  it('maintain() syncs at most three orgs a pass, the longest-unsynced first, and skips a needs_reauth org', async () => {
    const now = { ms: 1_800_000_000_000 };
    const clock = { now: () => now.ms, sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.min(ms, 5))) };
    const { tl, store, calls } = await orgHarness({ clock, orgSyncIntervalMs: 60_000 });
    const ids: string[] = [];
    for (const domain of ['a.example', 'b.example', 'c.example', 'd.example', 'e.example']) {
      now.ms += 1_000;
      const { organization } = await tl.org.connect.direct({
        tenantId: domain === 'e.example' ? 't2' : 't1',
        userId: 'admin-1',
        provider: 'gmail',
        directoryId: domain,
        adminEmail: `it@${domain}`,
        credentials: { client_email: 'sync@acme.iam.gserviceaccount.com', private_key: PRIVATE_KEY },
        selection: { mailboxes: [] },
      });
      ids.push(organization.id);
    }
    await tl.idle();
    // The fourth org's grant was revoked: it waits for the admin, not for the schedule.
    await store.markOrganizationNeedsReauth('t1', ids[3]!, { at: now.ms, errorCode: 'AUTH_REVOKED' });
    const lists = calls.list;
    now.ms += 60_000 + 5_000;
    const first = await tl.maintain();
    expect(first.orgSyncs).toBe(3);
    expect(calls.list).toBe(lists + 3);
    const synced = async () => {
      const all = [...(await tl.org.list({ tenantId: 't1', as: 'admin' })), ...(await tl.org.list({ tenantId: 't2', as: 'admin' }))];
      return all.filter((organization) => organization.lastSyncAt === now.ms).map((organization) => organization.id);
    };
    expect((await synced()).sort()).toEqual(ids.slice(0, 3).sort());
    // The rest (another tenant's org) at the next pass; never the needs_reauth one.
    expect((await tl.maintain()).orgSyncs).toBe(1);
    expect((await synced()).sort()).toEqual([ids[0], ids[1], ids[2], ids[4]].sort());
    expect((await tl.maintain()).orgSyncs).toBe(0);
    expect(calls.list).toBe(lists + 4);
  });

  it('leaves a mailbox its user connected themselves to that user: reported, never taken over, kept when the org goes', async () => {
    const { tl, store, connect, directory, mailbox } = await orgHarness({}, 'dee@acme.example');
    directory.set('dee@acme.example', person('dee@acme.example'));
    const { state } = await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u-dee' });
    const own = await tl.connect.complete({ code: 'code-1', state }, { tenantId: 't1', userId: 'u-dee' });
    await tl.idle();
    const before = (await store.getConnection(own.id))!;
    const { organization } = await connect();
    await tl.idle();
    const report = await tl.org.addMailboxes(ADMIN, organization.id, { mailboxes: ['dee@acme.example'] });
    expect(report).toMatchObject({ alreadyConnected: ['dee@acme.example'], added: [] });
    const kept = (await store.getConnection(own.id))!;
    expect(kept.orgId).toBeUndefined();
    expect(kept).toMatchObject({ userId: 'u-dee', sealedTokens: before.sealedTokens, status: 'live', shared: before.shared });
    expect(await store.listConnections({ tenantId: 't1', orgId: organization.id, accountEmail: 'dee@acme.example' })).toEqual([]);

    await tl.org.disconnect(ADMIN, organization.id);
    expect(await store.getConnection(own.id)).toMatchObject({ userId: 'u-dee', status: 'live' });
    expect(await store.listProviderMessageIds(own.id)).toEqual(mailbox.ids());
    expect(mailbox.calls.revoke).toBe(0);
  });

  it("refuses a user's own connect of a mailbox the org syncs: the new grant is handed back, the org's connection stays", async () => {
    const { tl, store, connect, mailbox } = await orgHarness({}, 'ana@acme.example');
    const { organization } = await connect();
    await tl.idle();
    const [before] = await store.listConnections({ tenantId: 't1', orgId: organization.id, accountEmail: 'ana@acme.example' });
    const { state } = await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u-ana' });
    await expectCode(tl.connect.complete({ code: 'code-1', state }, { tenantId: 't1', userId: 'u-ana' }), 'MAILBOX_MANAGED_BY_ORGANIZATION');
    expect(mailbox.calls.revoke).toBe(1);
    expect(mailbox.revokedTokens).toEqual(['access-secret-123']);
    expect(await store.getConnection(before!.id)).toMatchObject({
      orgId: organization.id,
      userId: before!.userId,
      sealedTokens: before!.sealedTokens,
      mailboxId: before!.mailboxId,
    });
  });

  it('assigns an org mailbox to its host user, who then keeps their own ingestion-policy rules for it', async () => {
    const { tl, store, connect } = await orgHarness();
    const { organization } = await connect();
    await tl.idle();
    const [bo] = await store.listConnections({ tenantId: 't1', orgId: organization.id, accountEmail: 'bo@acme.example' });
    const asBo = { tenantId: 't1', userId: 'u-bo', connectionId: bo!.id };
    // Before: the mailbox is the connecting admin's, so Bo cannot set its rules.
    await expectCode(tl.policy.set({ exclude: ['doctor@clinic.example'] }, asBo), 'CONNECTION_NOT_FOUND');
    await expectCode(tl.org.assignMailbox({ tenantId: 't1', userId: 'u-bo' }, organization.id, 'bo@acme.example', 'u-bo'), 'ORGANIZATION_NOT_FOUND');
    await expectCode(tl.org.assignMailbox(ADMIN, organization.id, 'nobody@acme.example', 'u-bo'), 'CONNECTION_NOT_FOUND');

    expect(await tl.org.assignMailbox(ADMIN, organization.id, 'BO@acme.example', 'u-bo')).toEqual({ connectionId: bo!.id });
    const saved = await tl.policy.set({ exclude: ['doctor@clinic.example'] }, asBo);
    expect(saved.policy.exclude).toEqual(['doctor@clinic.example']);
    expect((await tl.policy.get(asBo)).connection?.exclude).toEqual(['doctor@clinic.example']);
    // Still the org's, still visible to the tenant, and another user cannot change Bo's rules.
    expect(await store.getConnection(bo!.id)).toMatchObject({ orgId: organization.id, userId: 'u-bo', shared: true });
    await expectCode(tl.policy.set({ exclude: [] }, { tenantId: 't1', userId: 'u-cy', connectionId: bo!.id }), 'CONNECTION_NOT_FOUND');
    expect((await tl.org.sync(ADMIN, organization.id)).unchanged).toContain('bo@acme.example');
    expect((await store.getConnection(bo!.id))?.userId).toBe('u-bo');
  });

  it('disconnect stops every push channel and leaves no row of the org or its mailboxes', async () => {
    const { tl, store, connect, mailbox } = await orgHarness();
    const { organization } = await connect();
    await tl.idle();
    const ids = (await store.listConnections({ tenantId: 't1', orgId: organization.id })).map((connection) => connection.id);
    expect(await tl.org.disconnect(ADMIN, organization.id)).toEqual({ mailboxes: 3 });
    expect(mailbox.calls.unsubscribe).toBe(3);
    expect(mailbox.calls.revoke).toBe(0);
    const dump = JSON.stringify(await memoryStoreRaw(store).dump());
    for (const marker of [organization.id, ...ids, 'ana@acme.example', 'sales@acme.example']) expect(dump).not.toContain(marker);
    await expectCode(tl.org.get(ADMIN, organization.id), 'ORGANIZATION_NOT_FOUND');
  });

  it('keeps an org inside its tenant and its changes with an admin or the user who connected it', async () => {
    const { tl, store, connect } = await orgHarness();
    const { organization } = await connect();
    await tl.idle();
    const other = { tenantId: 't2', as: 'admin' } as const;
    await expectCode(tl.org.get(other, organization.id), 'ORGANIZATION_NOT_FOUND');
    await expectCode(tl.org.health(other, organization.id), 'ORGANIZATION_NOT_FOUND');
    await expectCode(tl.org.sync(other, organization.id), 'ORGANIZATION_NOT_FOUND');
    await expectCode(tl.org.disconnect(other, organization.id), 'ORGANIZATION_NOT_FOUND');
    await expectCode(tl.org.addMailboxes(other, organization.id, { mailboxes: ['x@acme.example'] }), 'ORGANIZATION_NOT_FOUND');
    expect(await tl.org.list(other)).toEqual([]);
    // A user of the tenant reads it but may not change it; the connecting admin may.
    const member = { tenantId: 't1', userId: 'member-1' };
    expect((await tl.org.get(member, organization.id)).id).toBe(organization.id);
    await expectCode(tl.org.disconnect(member, organization.id), 'ORGANIZATION_NOT_FOUND');
    await expectCode(tl.org.list({ tenantId: '' } as never), 'SCOPE_REQUIRED');
    expect((await tl.org.sync({ tenantId: 't1', userId: 'admin-1' }, organization.id)).inProgress).toBe(false);
    expect(await store.listConnections({ tenantId: 't1', orgId: organization.id })).toHaveLength(3);
  });
});
