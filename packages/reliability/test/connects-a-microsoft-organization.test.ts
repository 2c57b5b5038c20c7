// Issue 19, done-when (Microsoft), end to end through msal-node and the Graph client against the
// emulators, on the memory store and PostgreSQL: an admin approves once (the admin-consent page and
// the /connect/org/callback route, browser cookie and all) and 50 mailboxes of one org, two shared
// ones among them, go live; mail into any of them lands on the client's panel by push (a shared
// mailbox's copy beside a personal one's, one message); a user deleted from the tenant is
// offboarded (rows purged) and a new one picked up by tl.org.sync(); a mailbox outside the
// application access policy is reported and not retried; revoking admin consent turns every
// mailbox needs_reauth at once.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../src/random.js';
import { sqlKind, type StoreKind } from '../src/stores.js';
import { createWorld } from '../src/world.js';

const kinds: StoreKind[] = ['memory', ...(sqlKind() === 'postgres' ? (['postgres'] as const) : [])];
const PEOPLE = Array.from({ length: 48 }, (_, index) => `user${String(index).padStart(2, '0')}@contoso.test`);
const ADMIN = PEOPLE[0]!;
const SHARED = ['sales@contoso.test', 'support@contoso.test'];
const OUTSIDER = 'contractor@contoso.test';
const JOINER = 'newhire@contoso.test';
const LEAVER = PEOPLE[7]!;
const CLIENT = { type: 'client', id: 'c-bigco' } as const;

describe.each(kinds)('a Microsoft 365 organization end to end on %s', (storeKind) => {
  it('one admin approval: 50 mailboxes live, mail on the panels by push, leavers purged, joiners picked up, policy refusals reported, revocation parks all', async () => {
    const world = await createWorld({ random: seededRandom(19), storeKind, tenantId: `t-org-${storeKind}` });
    try {
      const ms = world.microsoft;
      for (const email of [...PEOPLE, OUTSIDER]) ms.addMailbox({ email });
      for (const email of SHARED) ms.org.addSharedMailbox({ email, name: email.split('@')[0]! });
      ms.org.makeAdmin(ADMIN);
      // The tenant scopes the app to the team and the shared mailboxes: the contractor is outside.
      ms.org.restrictAppAccess([...PEOPLE, ...SHARED, JOINER]);
      await ms.deliver({ from: 'buyer@bigco.test', to: PEOPLE[3]!, subject: 'Before the org connected – PRJ-1004', text: 'history' });

      const orgId = await world.connectOrganization({ admin: ADMIN, selection: { all: true, shared: SHARED } });
      await world.settle();
      const tl = world.any().tl;
      const admin = { tenantId: world.tenantId, as: 'admin' } as const;
      const store = world.backend.primary;

      const owned = await store.listConnections({ tenantId: world.tenantId, orgId });
      expect(owned).toHaveLength(50);
      expect(owned.every((connection) => connection.status === 'live')).toBe(true);
      expect(
        owned
          .filter((connection) => connection.mailboxKind === 'shared')
          .map((connection) => connection.accountEmail)
          .sort(),
      ).toEqual(SHARED);
      expect(new Set(ms.subscriptions().map((subscription) => subscription.mailbox.toLowerCase())).size).toBe(50);
      const health = await tl.org.health(admin, orgId);
      expect(health).toMatchObject({ status: 'active', counts: { live: 50 }, problems: [{ email: OUTSIDER, reason: 'forbidden' }] });
      // Back-filled: the history of a member is on the client's panel.
      const panel = async () => (await tl.timeline.forRecord(CLIENT, { tenantId: world.tenantId, userId: 'someone-in-sales', limit: 200 })).threads;
      expect((await panel()).map((thread) => thread.subject)).toContain('Before the org connected – PRJ-1004');

      // By push: one message to a shared mailbox and a person (one entry on the panel), one to the other shared mailbox.
      await ms.deliver({ from: 'buyer@bigco.test', to: [SHARED[0]!, PEOPLE[5]!], subject: 'Order for 40 seats', text: 'please quote' });
      await ms.deliver({ from: 'buyer@bigco.test', to: SHARED[1]!, subject: 'Ticket: login fails', text: 'help' });
      await world.settle();
      const threads = await panel();
      const order = threads.find((thread) => thread.subject === 'Order for 40 seats');
      expect(order?.messages).toHaveLength(1);
      expect(threads.map((thread) => thread.subject)).toContain('Ticket: login fails');
      expect(world.events.filter((event) => event.name === 'message.synced' && event.json.includes('Ticket: login fails'))).not.toHaveLength(0);

      // A user deleted from the tenant and one who joined: tl.org.sync() applies both.
      const leaver = owned.find((connection) => connection.accountEmail === LEAVER)!;
      await ms.deliver({ from: 'buyer@bigco.test', to: LEAVER, subject: 'Mail of a leaver', text: 'x' });
      await world.settle();
      expect(await store.listProviderMessageIds(leaver.id)).not.toEqual([]);
      ms.org.removeUser(LEAVER);
      ms.addMailbox({ email: JOINER });
      const report = await tl.org.sync(admin, orgId);
      expect(report).toMatchObject({ added: [JOINER], removed: [LEAVER], forbidden: [OUTSIDER] });
      await world.settle();
      expect(await store.getConnection(leaver.id)).toBeNull();
      expect(await store.listProviderMessageIds(leaver.id)).toEqual([]);
      expect(JSON.stringify(await world.backend.dump())).not.toContain(leaver.id);
      expect((await panel()).map((thread) => thread.subject)).not.toContain('Mail of a leaver');
      await ms.deliver({ from: 'buyer@bigco.test', to: JOINER, subject: 'Welcome aboard', text: 'hi' });
      await world.settle();
      expect((await panel()).map((thread) => thread.subject)).toContain('Welcome aboard');

      // The contractor is not retried in the background: maintenance passes never ask Graph for it.
      const outsiderId = ms.userId(OUTSIDER);
      const asked = () => ms.log.entries.filter((entry) => entry.path.includes(outsiderId)).length;
      const before = asked();
      await tl.maintain();
      await world.settle();
      await tl.maintain();
      expect(asked()).toBe(before);

      // Consent revoked: the next job of any one mailbox parks the org and all 50 at once.
      ms.org.revokeAdminConsent();
      const person = (await store.listConnections({ tenantId: world.tenantId, orgId })).find((connection) => connection.accountEmail === PEOPLE[5])!;
      await tl.connections.sync(person.id, admin);
      await world.settle();
      const parked = await store.listConnections({ tenantId: world.tenantId, orgId });
      expect(parked).toHaveLength(50);
      expect(parked.every((connection) => connection.status === 'needs_reauth')).toBe(true);
      expect((await tl.org.get(admin, orgId)).status).toBe('needs_reauth');
      expect(world.events.filter((event) => event.name === 'org.needs_reauth')).toHaveLength(1);
    } finally {
      await world.close();
    }
  }, 180_000);
});
