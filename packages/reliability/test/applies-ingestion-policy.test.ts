// The ingestion policy (issue 18) end to end, through the real Gmail client against the emulator,
// on the memory store, PGlite and PostgreSQL: excluded mail leaves no row in any physical table, no
// event and no log line carrying its address (the privacy canary's grep); `store: 'matched'` keeps
// unmatched mail out; tightening purges and reports; loosening brings mail back by reconciliation;
// invalid rules are refused with POLICY_INVALID. The rule itself is stored (the policies table is
// the one place the excluded address may appear, and the test checks that it does).
import { randomBytes } from 'node:crypto';
import { isThreadlinkError } from '@threadlink/core';
import { describe, expect, it } from 'vitest';
import { connectedWorld } from '../src/fixture.js';
import { canaryHits } from '../src/ground-truth.js';
import { sqlKind, type StoreKind } from '../src/stores.js';

const kinds: StoreKind[] = ['memory', 'pglite', ...(sqlKind() === 'postgres' ? (['postgres'] as const) : [])];
const POLICY_TABLES = new Set(['policies', 'ingestion_policies']);

async function refusal(promise: Promise<unknown>): Promise<{ code: string; message: string; details: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    if (isThreadlinkError(error)) return { code: error.code, message: error.message, details: error.details };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe.each(kinds)('ingestion policy on %s', (storeKind) => {
  it('keeps excluded and unmatched mail out of every table, event and log; purges on tightening; restores on loosening', async () => {
    const { world, gmail, gmailEmail } = await connectedWorld({ storeKind, seed: 18 });
    try {
      const tl = world.any().tl;
      const store = world.backend.primary;
      const admin = { tenantId: world.tenantId, as: 'admin' } as const;
      const target = { ...admin, connectionId: gmail.id };
      const tag = randomBytes(6).toString('hex');
      const canary = `canary${tag}@private-${tag}.test`;
      const hrDomain = `hr-${tag}.test`;
      const grepEverywhere = async (needle: string) => {
        const dump = await world.backend.dump();
        const tables = Object.fromEntries(
          Object.entries(dump)
            .filter(([table]) => !POLICY_TABLES.has(table))
            .map(([table, rows]) => [`table ${table}`, rows]),
        );
        const policyRows = Object.entries(dump).filter(([table]) => POLICY_TABLES.has(table));
        return {
          hits: canaryHits(needle, { ...tables, logs: world.logs.join('\n'), events: world.events.map((event) => event.json).join('\n') }),
          tableHits: canaryHits(needle, tables),
          inPolicyTable: canaryHits(needle, Object.fromEntries(policyRows)).length > 0,
        };
      };

      // Exclusions: an exact address and a subdomain wildcard.
      const first = await tl.policy.set({ exclude: [canary.toUpperCase(), `*.${hrDomain}`] }, target);
      expect(first.policy.exclude).toEqual([canary, `*.${hrDomain}`]);
      expect(first.purged.messages).toBe(0);
      const fromCanary = await world.google.deliver({ from: canary, to: gmailEmail, subject: 'Doctor appointment PRJ-1001', text: 'private' });
      const ccCanary = await world.google.deliver({ from: 'buyer@bigco.test', to: gmailEmail, cc: canary, subject: 'Offer PRJ-1002', text: 'hi' });
      const fromHr = await world.google.deliver({ from: `payroll@people.${hrDomain}`, to: gmailEmail, subject: 'Salary', text: 'private' });
      const kept = await world.google.deliver({ from: 'buyer@bigco.test', to: gmailEmail, subject: 'Kept PRJ-1003', text: 'hi' });
      await world.settle();
      expect(await store.getMessageByProviderId(gmail.id, kept.id)).not.toBeNull();
      for (const excluded of [fromCanary, ccCanary, fromHr]) expect(await store.getMessageByProviderId(gmail.id, excluded.id)).toBeNull();
      const afterExclusion = await grepEverywhere(canary);
      expect(afterExclusion.hits).toEqual([]);
      expect(afterExclusion.inPolicyTable).toBe(true);
      expect((await grepEverywhere(hrDomain)).hits).toEqual([]);
      // Positive control for the log grep: debug lines were captured.
      expect(world.logs.some((line) => line.includes('"level":"debug"'))).toBe(true);

      // Tightening purges what now falls outside, and reports it (ids, never addresses).
      const spouse = `partner@spouse-${tag}.test`;
      const fromSpouse = await world.google.deliver({ from: spouse, to: gmailEmail, subject: 'Dinner', text: 'x' });
      await world.settle();
      const spouseRow = await store.getMessageByProviderId(gmail.id, fromSpouse.id);
      expect(spouseRow).not.toBeNull();
      const preview = await tl.policy.preview({ exclude: [canary, `*.${hrDomain}`, `spouse-${tag}.test`] }, target);
      expect(preview.messageIds).toEqual([spouseRow!.id]);
      expect(await store.getMessageByProviderId(gmail.id, fromSpouse.id)).not.toBeNull();
      const tightened = await tl.policy.update({ exclude: [canary, `*.${hrDomain}`, `spouse-${tag}.test`] }, target);
      expect(tightened.purged).toEqual({ messages: 1, links: 0, messageIds: [spouseRow!.id] });
      expect(tightened.resync).toEqual([]);
      expect(await store.getMessageByProviderId(gmail.id, fromSpouse.id)).toBeNull();
      // A host mirroring activities hears of it like of any delete (ids only).
      expect(world.events.filter((event) => event.name === 'message.deleted' && event.json.includes(spouseRow!.id))).toHaveLength(1);
      await world.settle();
      // Its earlier message.synced event is history; no table holds the address any more.
      expect((await grepEverywhere(spouse)).tableHits).toEqual([]);

      // Loosening enqueues a reconciliation that brings the mail back from the provider.
      const loosened = await tl.policy.set({ exclude: [canary] }, target);
      expect(loosened.resync).toEqual([gmail.id]);
      await world.settle();
      expect(await store.getMessageByProviderId(gmail.id, fromSpouse.id)).not.toBeNull();
      expect(await store.getMessageByProviderId(gmail.id, fromHr.id)).not.toBeNull();
      expect(await store.getMessageByProviderId(gmail.id, fromCanary.id)).toBeNull();
      expect((await grepEverywhere(canary)).hits).toEqual([]);

      // store: 'matched' — unmatched mail goes now and never lands later; matched mail stays.
      const matchedOnly = await tl.policy.update({ store: 'matched' }, target);
      // The restored message keeps its id (ids derive from connection and provider id), and goes again.
      expect(matchedOnly.purged.messageIds).toContain(spouseRow!.id);
      expect(await store.getMessageByProviderId(gmail.id, fromSpouse.id)).toBeNull();
      expect(await store.getMessageByProviderId(gmail.id, kept.id)).not.toBeNull();
      const stranger = `nobody-${tag}@unknown-${tag}.test`;
      const unmatched = await world.google.deliver({ from: stranger, to: gmailEmail, subject: 'Newsletter', text: 'x' });
      const matched = await world.google.deliver({ from: 'ops@globex.test', to: gmailEmail, subject: 'Order', text: 'x' });
      await world.settle();
      expect(await store.getMessageByProviderId(gmail.id, unmatched.id)).toBeNull();
      expect((await store.getMessageByProviderId(gmail.id, matched.id))?.links.length).toBeGreaterThan(0);
      expect((await grepEverywhere(stranger)).hits).toEqual([]);

      // Internal-only mail, with the tenant's own domains configured in the tenant policy.
      await tl.policy.set({ ownDomains: ['acme.test'], internalOnly: 'skip' }, admin);
      await tl.policy.update({ store: 'all' }, target);
      const internal = await world.google.deliver({ from: 'colleague@acme.test', to: gmailEmail, subject: 'Lunch?', text: 'x' });
      await world.settle();
      expect(await store.getMessageByProviderId(gmail.id, internal.id)).toBeNull();
      expect(await store.getMessageByProviderId(gmail.id, fromSpouse.id)).not.toBeNull();

      // Invalid rules and wrong scopes are refused, naming the rule.
      const bad = await refusal(tl.policy.set({ exclude: ['ok@example.com', 'two@@signs.test'] }, target));
      expect(bad).toMatchObject({ code: 'POLICY_INVALID', details: { rule: 'exclude.1' } });
      expect(bad.message).toContain('two@@signs.test');
      for (const rule of ['*', '*@*', 'foo*@example.com', 'example', '*.*.example.com', 'a b@example.com']) {
        expect((await refusal(tl.policy.set({ exclude: [rule] }, target))).code).toBe('POLICY_INVALID');
      }
      expect((await refusal(tl.policy.set({ store: 'some' } as never, target))).details).toMatchObject({ rule: 'store' });
      expect((await refusal(tl.policy.set({ ownDomains: ['acme.test'] } as never, target))).code).toBe('POLICY_INVALID');
      expect((await refusal(tl.policy.set({ exclude: [] }, { tenantId: world.tenantId, userId: 'user-ana' }))).code).toBe('SCOPE_REQUIRED');
      expect((await refusal(tl.policy.get({ tenantId: world.tenantId, userId: 'someone-else', connectionId: gmail.id }))).code).toBe('CONNECTION_NOT_FOUND');
      expect((await refusal(tl.policy.get({ tenantId: 'other-tenant', as: 'admin', connectionId: gmail.id }))).code).toBe('CONNECTION_NOT_FOUND');
      const view = await tl.policy.get({ tenantId: world.tenantId, userId: 'user-ana', connectionId: gmail.id });
      expect(view.connection?.exclude).toEqual([canary]);
      expect(view.tenant.ownDomains).toEqual(['acme.test']);
    } finally {
      await world.close();
    }
  });
});
