// Issue 19 joins the privacy canary: organization connections of both providers — Microsoft by
// admin consent (the MSAL client-credentials cache sealed as the org's credentials), Google by
// connect.direct (the service account's private key) — back-fill and push-sync mail whose body,
// HTML and attachment carry a canary. Every physical table, log line and event is grepped: neither
// the canary nor the org's clear-text secrets appear anywhere; body() still gives the caller the
// content (positive control). And org grants stay with their org: org A's connection is never acted
// on with org B's grant, nor visible to org B's tenant.
import { randomBytes } from 'node:crypto';
import { createSealer, isThreadlinkError, OrgCredentials } from '@threadlink/core';
import { gmailAdminConsoleScopes } from '@threadlink/gmail';
import { describe, expect, it } from 'vitest';
import { canaryHits, leakPlaces } from '../src/ground-truth.js';
import { seededRandom } from '../src/random.js';
import { sqlKind, type StoreKind } from '../src/stores.js';
import { createWorld, type World } from '../src/world.js';

const kinds: StoreKind[] = ['memory', sqlKind()];
const DOMAIN = 'acme.test';
const G_ADMIN = `admin@${DOMAIN}`;
const G_PERSON = `ana@${DOMAIN}`;
const G_SHARED = `sales@${DOMAIN}`;
const M_ADMIN = 'ada@contoso.test';
const M_PERSON = 'cleo@contoso.test';
const M_SHARED = 'projects@contoso.test';

async function orgWorld(storeKind: StoreKind, seed: number): Promise<World> {
  const world = await createWorld({ random: seededRandom(seed), storeKind, tenantId: `t-orgs-${storeKind}`, workspaceDomain: DOMAIN });
  world.google.workspace.addUser({ email: G_ADMIN, isAdmin: true });
  world.google.workspace.addUser({ email: G_PERSON });
  world.google.workspace.addUser({ email: G_SHARED, name: 'Sales' });
  for (const email of [M_ADMIN, M_PERSON]) world.microsoft.addMailbox({ email });
  world.microsoft.org.addSharedMailbox({ email: M_SHARED, name: 'Projects' });
  world.microsoft.org.makeAdmin(M_ADMIN);
  return world;
}

async function connectGoogleOrg(world: World, tenantId = world.tenantId) {
  const key = await world.google.workspace.createServiceAccount(`sync-${randomBytes(3).toString('hex')}`);
  world.google.workspace.authorizeDelegation(key.client_id, gmailAdminConsoleScopes('full'));
  const { organization } = await world.any().tl.org.connect.direct({
    tenantId,
    userId: 'it-admin',
    provider: 'gmail',
    directoryId: DOMAIN,
    adminEmail: G_ADMIN,
    credentials: key,
    selection: { mailboxes: [G_PERSON], shared: [G_SHARED] },
  });
  return { key, orgId: organization.id };
}

describe.each(kinds)('organization connections on %s', (storeKind) => {
  it('never persist, log or emit the org credentials or mailbox content', async () => {
    const canary = `CANARY${randomBytes(8).toString('hex')}`;
    const content = (where: string) => ({
      text: `Private ${where} ${canary}.`,
      html: `<p>Private <b>${canary}</b> ${where}</p>`,
      attachments: [{ filename: 'Proposal PRJ-1003.pdf', content: `%PDF ${canary}`, contentType: 'application/pdf' }],
    });
    const world = await orgWorld(storeKind, 23);
    try {
      for (const to of [G_PERSON, G_SHARED])
        await world.google.deliver({ from: 'buyer@bigco.test', to, subject: 'Back-filled PRJ-1003', ...content('backfill') });
      for (const to of [M_PERSON, M_SHARED])
        await world.microsoft.deliver({ from: 'buyer@bigco.test', to, subject: 'Back-filled PRJ-1003', ...content('backfill') });
      const { key, orgId: googleOrg } = await connectGoogleOrg(world);
      const microsoftOrg = await world.connectOrganization({ admin: M_ADMIN, selection: { mailboxes: [M_PERSON], shared: [M_SHARED] } });
      await world.settle();
      for (const to of [G_PERSON, G_SHARED]) await world.google.deliver({ from: 'buyer@bigco.test', to, subject: 'Pushed PRJ-1003', ...content('push') });
      for (const to of [M_PERSON, M_SHARED]) await world.microsoft.deliver({ from: 'buyer@bigco.test', to, subject: 'Pushed PRJ-1003', ...content('push') });
      await world.settle();

      const store = world.backend.primary;
      const tl = world.any().tl;
      const scope = { tenantId: world.tenantId, as: 'admin' } as const;
      const owned = [
        ...(await store.listConnections({ tenantId: world.tenantId, orgId: googleOrg })),
        ...(await store.listConnections({ tenantId: world.tenantId, orgId: microsoftOrg })),
      ];
      expect(owned.map((connection) => [connection.accountEmail, connection.status]).sort()).toEqual(
        [G_PERSON, G_SHARED, M_PERSON, M_SHARED].sort().map((email) => [email, 'live']),
      );
      // Positive control: every org mailbox synced both messages, and body() hands the caller the canary.
      const delivered: unknown[] = [];
      for (const connection of owned) {
        const ids = await store.listProviderMessageIds(connection.id);
        expect(ids).toHaveLength(2);
        const message = (await store.getMessageByProviderId(connection.id, ids[0]!))!;
        const body = await tl.messages.body(message.id, { ...scope, format: 'html' });
        expect(body.html).toContain(canary);
        delivered.push(body);
      }

      // The org secrets in clear text: the key's private part, and the MSAL cache's access token.
      const sealer = createSealer(world.sealingKeys);
      const microsoftRow = (await store.getOrganization(world.tenantId, microsoftOrg))!;
      const msal = OrgCredentials.parse(JSON.parse(sealer.open(microsoftRow.sealedCredentials, 'org-credentials')));
      if (msal.kind !== 'microsoft-app' || !msal.cache) throw new Error('the Microsoft org keeps no MSAL cache');
      const accessTokens = Object.values((JSON.parse(msal.cache) as { AccessToken: Record<string, { secret: string }> }).AccessToken).map(
        (token) => token.secret,
      );
      expect(accessTokens.length).toBeGreaterThan(0);
      const privateKeyBody = key.private_key.split('\n').slice(2, 4).join('');
      expect(privateKeyBody.length).toBeGreaterThan(100);

      const places = await leakPlaces(world, {
        reads: [
          await tl.org.get(scope, googleOrg),
          await tl.org.get(scope, microsoftOrg),
          await tl.org.health(scope, googleOrg),
          await tl.org.health(scope, microsoftOrg),
        ],
      });
      expect(Object.keys(places)).toContain('table organizations');
      for (const secret of [canary, privateKeyBody.slice(20, 84), ...accessTokens.map((token) => token.slice(-40))])
        expect(canaryHits(secret, places)).toEqual([]);
      // Positive control for the grep itself.
      expect(canaryHits(canary, { delivered })).toEqual(['delivered']);
    } finally {
      await world.close();
    }
  }, 120_000);

  it("never acts on org A's mailbox with org B's grant, nor lets org B's tenant see or change it", async () => {
    const world = await orgWorld(storeKind, 29);
    try {
      const tenantA = world.tenantId;
      const tenantB = `${world.tenantId}-b`;
      const a = await world.connectOrganization({ admin: M_ADMIN, selection: { mailboxes: [M_PERSON], shared: [M_SHARED] } });
      // Tenant B connects the same Microsoft directory: its own org, its own connections.
      const b = await world.connectOrganization({ admin: M_ADMIN, selection: { mailboxes: [M_PERSON] }, tenantId: tenantB });
      await world.settle();
      expect(b).not.toBe(a);
      const store = world.backend.primary;
      const tl = world.any().tl;
      const ownedA = await store.listConnections({ tenantId: tenantA, orgId: a });
      const ownedB = await store.listConnections({ tenantId: tenantB, orgId: b });
      expect(ownedA).toHaveLength(2);
      expect(ownedB).toHaveLength(1);
      expect(ownedA.map((connection) => connection.id)).not.toContain(ownedB[0]!.id);

      const code = (promise: Promise<unknown>) =>
        promise.then(
          () => 'resolved',
          (error: unknown) => (isThreadlinkError(error) ? error.code : String(error)),
        );
      const adminB = { tenantId: tenantB, as: 'admin' } as const;
      for (const call of [
        () => tl.org.get(adminB, a),
        () => tl.org.sync(adminB, a),
        () => tl.org.health(adminB, a),
        () => tl.org.addMailboxes(adminB, a, { mailboxes: [M_ADMIN] }),
        () => tl.org.removeMailbox(adminB, a, M_PERSON),
        () => tl.org.disconnect(adminB, a),
      ]) {
        expect(await code(call())).toBe('ORGANIZATION_NOT_FOUND');
      }
      for (const connection of ownedA) expect(await code(tl.connections.sync(connection.id, adminB))).toBe('CONNECTION_NOT_FOUND');

      // A row pointing org A's mailbox at org B (corruption, a bug elsewhere): its jobs do not get
      // org B's grant — the org is looked up inside the mailbox's own tenant — so nothing is fetched.
      const target = ownedA.find((connection) => connection.accountEmail === M_SHARED)!;
      await store.saveConnection({ ...target, orgId: b });
      const graphCalls = () => world.microsoft.log.entries.filter((entry) => entry.path.includes(world.microsoft.userId(M_SHARED))).length;
      const before = graphCalls();
      await world.microsoft.deliver({ from: 'buyer@bigco.test', to: M_SHARED, subject: 'Must not be read with B', text: 'x' });
      await tl.connections.sync(target.id, { tenantId: tenantA, as: 'admin' });
      await world.settle();
      expect(graphCalls()).toBe(before);
      expect(world.logs.some((line) => line.includes('ORGANIZATION_NOT_FOUND') && line.includes(target.id))).toBe(true);
      expect((await store.listConnections({ tenantId: tenantB })).map((connection) => connection.id)).toEqual(ownedB.map((connection) => connection.id));

      // Disconnecting org B leaves org A's other mailbox live, with its push channel.
      await store.saveConnection({ ...target, orgId: a });
      expect(await tl.org.disconnect(adminB, b)).toEqual({ mailboxes: 1 });
      const person = (await store.listConnections({ tenantId: tenantA, orgId: a })).find((connection) => connection.accountEmail === M_PERSON)!;
      expect(person.status).toBe('live');
      expect(world.microsoft.subscriptions().some((subscription) => subscription.id === person.subscription?.items[0]?.id)).toBe(true);
    } finally {
      await world.close();
    }
  }, 120_000);
});
