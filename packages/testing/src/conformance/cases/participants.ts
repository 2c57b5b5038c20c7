// participantActivity: who the mailboxes exchanged mail with, per address (contact discovery).
// Counted from stored participants only: inbound messages count for their sender, outbound ones
// for every recipient; the order puts two-way correspondents before one-way senders.
import { describe, expect, it } from 'vitest';
import { expectError, seed, type ConformanceContext } from '../context.js';
import { FIXTURE_EPOCH, makeConnection, makeMessage } from '../fixtures.js';

const at = (minutes: number): number => FIXTURE_EPOCH + minutes * 60_000;

export function participantCases(t: ConformanceContext): void {
  describe('participant activity', () => {
    it('counts inbound mail for its sender and outbound mail for each recipient once, two-way correspondents first', async () => {
      const ana = makeConnection({ accountEmail: 'ana@acme.example' });
      const outbound = (minutes: number, overrides: Parameters<typeof makeMessage>[1] = {}) =>
        makeMessage(ana, {
          direction: 'outbound',
          folder: 'sent',
          labels: ['SENT'],
          from: { address: ana.accountEmail },
          receivedAt: at(minutes),
          ...overrides,
        });
      const inbound = (minutes: number, overrides: Parameters<typeof makeMessage>[1] = {}) => makeMessage(ana, { receivedAt: at(minutes), ...overrides });
      await seed(t.store, ana, [
        // Bob: two in, one out (named as To and again as Cc on one message: counted once).
        inbound(1, { from: { address: 'bob@bigco.example', name: 'Bob Old' }, cc: [{ address: 'zoe@bigco.example' }] }),
        inbound(5, { from: { address: 'bob@bigco.example', name: 'Bob Buyer' }, replyTo: [{ address: 'desk@bigco.example' }] }),
        outbound(3, { to: [{ address: 'bob@bigco.example' }], cc: [{ address: 'BOB@bigco.example', name: 'Bob Cc' }] }),
        // A newsletter: many in, never answered.
        ...[10, 11, 12, 13].map((minutes) => inbound(minutes, { from: { address: 'news@letters.example', name: 'Newsletter' } })),
        // Carol: written to once (Bcc), never wrote back.
        outbound(7, { to: [{ address: 'team@acme.example' }], bcc: [{ address: 'carol@partner.example', name: 'Carol' }] }),
      ]);
      const activity = await t.store.participantActivity({ tenantId: ana.tenantId, limit: 10 });
      expect(activity).toEqual([
        { address: 'bob@bigco.example', name: 'Bob Buyer', received: 2, sent: 1, lastReceivedAt: at(5), lastSentAt: at(3) },
        { address: 'news@letters.example', name: 'Newsletter', received: 4, sent: 0, lastReceivedAt: at(13), lastSentAt: null },
        { address: 'carol@partner.example', name: 'Carol', received: 0, sent: 1, lastReceivedAt: null, lastSentAt: at(7) },
        { address: 'team@acme.example', name: null, received: 0, sent: 1, lastReceivedAt: null, lastSentAt: at(7) },
      ]);
      // Reply-to and the other recipients of inbound mail count for nothing.
      expect(activity.map((entry) => entry.address)).not.toContain('zoe@bigco.example');
      expect(activity.map((entry) => entry.address)).not.toContain('desk@bigco.example');
      expect(await t.store.participantActivity({ tenantId: ana.tenantId, limit: 2 })).toEqual(activity.slice(0, 2));
    });

    it('filters by connection, time and excluded addresses and domains (any case), and stays inside its tenant', async () => {
      const ana = makeConnection();
      const bob = makeConnection({ tenantId: ana.tenantId });
      const stranger = makeConnection();
      await seed(t.store, ana, [
        makeMessage(ana, { from: { address: 'early@bigco.example' }, receivedAt: at(1) }),
        makeMessage(ana, { from: { address: 'late@bigco.example' }, receivedAt: at(20) }),
        makeMessage(ana, { from: { address: 'colleague@acme.example' }, receivedAt: at(21) }),
        makeMessage(ana, { from: { address: 'self@own.example' }, receivedAt: at(22) }),
      ]);
      await seed(t.store, bob, [makeMessage(bob, { from: { address: 'bobs@client.example' }, receivedAt: at(30) })]);
      await seed(t.store, stranger, [makeMessage(stranger, { from: { address: 'other-tenant@client.example' }, receivedAt: at(40) })]);
      const addresses = async (query: Partial<Parameters<typeof t.store.participantActivity>[0]>) =>
        (await t.store.participantActivity({ tenantId: ana.tenantId, limit: 50, ...query })).map((entry) => entry.address).sort();
      expect(await addresses({})).toEqual(['bobs@client.example', 'colleague@acme.example', 'early@bigco.example', 'late@bigco.example', 'self@own.example']);
      expect(await addresses({ connectionIds: [ana.id] })).toEqual(['colleague@acme.example', 'early@bigco.example', 'late@bigco.example', 'self@own.example']);
      expect(await addresses({ connectionIds: [] })).toEqual([]);
      expect(await addresses({ addresses: ['LATE@bigco.example', 'nobody@bigco.example'] })).toEqual(['late@bigco.example']);
      expect(await addresses({ addresses: [] })).toEqual([]);
      expect(await addresses({ since: at(20) })).toEqual(['bobs@client.example', 'colleague@acme.example', 'late@bigco.example', 'self@own.example']);
      expect(await addresses({ excludeAddresses: ['SELF@own.example'], excludeDomains: [' ACME.example '] })).toEqual([
        'bobs@client.example',
        'early@bigco.example',
        'late@bigco.example',
      ]);
      expect((await t.store.participantActivity({ tenantId: stranger.tenantId, limit: 50 })).map((entry) => entry.address)).toEqual([
        'other-tenant@client.example',
      ]);
      await expectError(t.store.participantActivity({ tenantId: ana.tenantId, limit: 0 }), 'INVALID_INPUT');
      await expectError(t.store.participantActivity({ tenantId: '', limit: 10 }), 'INVALID_INPUT');
    });
  });
}
