// Connections: save, patch, look up (the webhook path finds them by subscription id).
import { describe, expect, it } from 'vitest';
import type { Connection } from '@threadlink/core/store';
import { expectError, expectNothingWritten, seed, type ConformanceContext } from '../context.js';
import { FIXTURE_EPOCH, makeConnection, makeMessage, uniqueId } from '../fixtures.js';
import { rowsMentioning } from '../raw.js';

function subscription(id: string, resource = 'me/mailFolders/inbox/messages') {
  return { items: [{ id, resource, expiresAt: FIXTURE_EPOCH + 86_400_000 }], renewAt: FIXTURE_EPOCH + 43_200_000, expiresAt: FIXTURE_EPOCH + 86_400_000 };
}

export function connectionCases(t: ConformanceContext): void {
  describe('connections', () => {
    it('saves, reads back and replaces a connection', async () => {
      const connection = makeConnection({ displayName: 'Ana', status: 'connecting' });
      await t.store.saveConnection(connection);
      expect(await t.store.getConnection(connection.id)).toEqual(connection);
      const replaced: Connection = { ...connection, status: 'live', cursor: 'history-1', subscription: subscription(uniqueId('watch')) };
      await t.store.saveConnection(replaced);
      expect(await t.store.getConnection(connection.id)).toEqual(replaced);
      expect(await t.store.getConnection(uniqueId('conn'))).toBeNull();
      await expectError(t.store.saveConnection({ ...connection, accountEmail: 'not-an-address' }), 'INVALID_INPUT');
    });

    it('listConnections applies every filter given, ordered by creation', async () => {
      const tenantId = uniqueId('tenant');
      const userId = uniqueId('user');
      const subscriptionId = uniqueId('subscription');
      const gmailLive = makeConnection({ tenantId, userId, createdAt: FIXTURE_EPOCH + 3 });
      const outlook = makeConnection({
        tenantId,
        provider: 'outlook',
        status: 'needs_reauth',
        createdAt: FIXTURE_EPOCH + 1,
        subscription: subscription(subscriptionId),
      });
      const backfilling = makeConnection({ tenantId, userId, status: 'backfilling', createdAt: FIXTURE_EPOCH + 2, accountEmail: 'ana@acme.example' });
      const elsewhere = makeConnection({ userId, subscription: subscription(uniqueId('subscription')) });
      for (const connection of [gmailLive, outlook, backfilling, elsewhere]) await t.store.saveConnection(connection);
      const ids = async (query: Parameters<typeof t.store.listConnections>[0]) => (await t.store.listConnections(query)).map((connection) => connection.id);

      expect(await ids({ tenantId })).toEqual([outlook.id, backfilling.id, gmailLive.id]);
      expect(await ids({ tenantId, userId })).toEqual([backfilling.id, gmailLive.id]);
      expect(await ids({ tenantId, provider: 'outlook' })).toEqual([outlook.id]);
      expect(await ids({ tenantId, status: ['live', 'backfilling'] })).toEqual([backfilling.id, gmailLive.id]);
      expect(await ids({ tenantId, status: [] })).toEqual([]);
      expect(await ids({ accountEmail: 'ANA@acme.example' })).toEqual([backfilling.id]);
      expect(await ids({ subscriptionId })).toEqual([outlook.id]);
      expect(await ids({ subscriptionId, status: ['live'] })).toEqual([]);
      expect(await ids({ subscriptionId: uniqueId('subscription') })).toEqual([]);
      expect(await ids({ userId })).toContain(elsewhere.id);
    });

    it('listConnections finds the connections holding any of several subscription ids in one call', async () => {
      // A Graph batch names many subscriptions: core checks them all with this one query.
      const [first, second, third, unknown] = [uniqueId('subscription'), uniqueId('subscription'), uniqueId('subscription'), uniqueId('subscription')];
      const one = makeConnection({ provider: 'outlook', createdAt: FIXTURE_EPOCH + 1, subscription: subscription(first) });
      const two = makeConnection({ provider: 'outlook', createdAt: FIXTURE_EPOCH + 2, subscription: subscription(second) });
      const other = makeConnection({ provider: 'outlook', createdAt: FIXTURE_EPOCH + 3, subscription: subscription(third) });
      const none = makeConnection({ provider: 'outlook', createdAt: FIXTURE_EPOCH + 4 });
      for (const connection of [one, two, other, none]) await t.store.saveConnection(connection);
      const ids = async (query: Parameters<typeof t.store.listConnections>[0]) => (await t.store.listConnections(query)).map((connection) => connection.id);

      expect(await ids({ subscriptionIds: [second, unknown, first, first] })).toEqual([one.id, two.id]);
      expect(await ids({ subscriptionIds: [third], provider: 'gmail' })).toEqual([]);
      expect(await ids({ subscriptionIds: [third], provider: 'outlook' })).toEqual([other.id]);
      expect(await ids({ subscriptionIds: [unknown] })).toEqual([]);
      expect(await ids({ subscriptionIds: [] })).toEqual([]);
    });

    it('keeps a connection and its mail under any provider slug, not only gmail and outlook', async () => {
      // The provider id is open (a third adapter brings its own): a store must neither refuse nor
      // rewrite one it has not heard of, and must still refuse what is not a slug.
      const tenantId = uniqueId('tenant');
      const imap = makeConnection({ tenantId, provider: 'imap-test', createdAt: FIXTURE_EPOCH + 1 });
      const gmail = makeConnection({ tenantId });
      const message = makeMessage(imap);
      await seed(t.store, imap, [message]);
      await t.store.saveConnection(gmail);
      expect(await t.store.getConnection(imap.id)).toEqual(imap);
      expect((await t.store.listConnections({ tenantId, provider: 'imap-test' })).map((found) => found.id)).toEqual([imap.id]);
      expect((await t.store.listConnections({ tenantId, provider: 'gmail' })).map((found) => found.id)).toEqual([gmail.id]);
      expect(await t.store.getMessageByProviderId(imap.id, message.providerMessageId)).toMatchObject({ id: message.id, provider: 'imap-test' });
      const written = rowsMentioning(await t.raw.dump(), ['imap-test']);
      expect(written.some((row) => row.includes(message.id))).toBe(true);
      expect(written.every((row) => row.includes(imap.id))).toBe(true);

      for (const provider of ['IMAP', 'x', 'imap test', `p${'a'.repeat(32)}`]) {
        await expectNothingWritten(t.raw, async () => {
          await expectError(t.store.saveConnection(makeConnection({ provider })), 'INVALID_INPUT');
        });
      }
    });

    it('patchConnection updates the given fields only, persists them and re-indexes the subscription', async () => {
      const oldSubscription = uniqueId('subscription');
      const newSubscription = uniqueId('subscription');
      const connection = makeConnection({ subscription: subscription(oldSubscription) });
      await seed(t.store, connection, [makeMessage(connection)]);
      const health = { ...connection.health, consecutiveErrors: 2, lastErrorCode: 'RATE_LIMITED', lastErrorAt: FIXTURE_EPOCH + 5 };
      const patched = await t.store.patchConnection(connection.id, {
        status: 'needs_reauth',
        health,
        subscription: subscription(newSubscription),
        updatedAt: FIXTURE_EPOCH + 9,
      });
      const expected = { ...connection, status: 'needs_reauth', health, subscription: subscription(newSubscription), updatedAt: FIXTURE_EPOCH + 9 };
      expect(patched).toEqual(expected);
      expect(await t.store.getConnection(connection.id)).toEqual(expected);
      expect((await t.store.listConnections({ subscriptionId: oldSubscription })).map((found) => found.id)).toEqual([]);
      expect((await t.store.listConnections({ subscriptionId: newSubscription })).map((found) => found.id)).toEqual([connection.id]);
      expect(await t.store.patchConnection(uniqueId('conn'), { status: 'live' })).toBeNull();
    });

    it('patchConnection merges health field by field, alone or with other fields', async () => {
      const connection = makeConnection({
        health: { ...makeConnection().health, lastSyncAt: FIXTURE_EPOCH + 1, consecutiveErrors: 3, lastErrorCode: 'RATE_LIMITED' },
      });
      await seed(t.store, connection);
      // Health alone (the webhook's lastPushAt): the other fields keep their stored values.
      const pushed = await t.store.patchConnection(connection.id, { health: { lastPushAt: FIXTURE_EPOCH + 2 } });
      const afterPush = { ...connection, health: { ...connection.health, lastPushAt: FIXTURE_EPOCH + 2 } };
      expect(pushed).toEqual(afterPush);
      expect(await t.store.getConnection(connection.id)).toEqual(afterPush);
      // Health with updatedAt; a field set to null is set, an undefined one left alone.
      await t.store.patchConnection(connection.id, {
        health: { consecutiveErrors: 0, lastErrorCode: null, lastSyncAt: undefined } as never,
        updatedAt: FIXTURE_EPOCH + 3,
      });
      const afterSuccess = { ...afterPush, health: { ...afterPush.health, consecutiveErrors: 0, lastErrorCode: null }, updatedAt: FIXTURE_EPOCH + 3 };
      expect(await t.store.getConnection(connection.id)).toEqual(afterSuccess);
      // Health with other fields: merged the same way.
      await t.store.patchConnection(connection.id, { status: 'needs_reauth', health: { missedPushAt: FIXTURE_EPOCH + 4 } });
      expect(await t.store.getConnection(connection.id)).toEqual({
        ...afterSuccess,
        status: 'needs_reauth',
        health: { ...afterSuccess.health, missedPushAt: FIXTURE_EPOCH + 4 },
      });
      expect(await t.store.patchConnection(uniqueId('conn'), { health: { lastPushAt: FIXTURE_EPOCH } })).toBeNull();
    });

    it('refuses an invalid patch and changes nothing', async () => {
      const connection = makeConnection();
      await seed(t.store, connection);
      await expectNothingWritten(t.raw, async () => {
        await expectError(t.store.patchConnection(connection.id, { status: 'paused' as never }), 'INVALID_INPUT');
        await expectError(t.store.patchConnection(connection.id, { sealedTokens: '' }), 'INVALID_INPUT');
        await expectError(t.store.patchConnection(connection.id, { tenantId: 'tenant_other' } as never), 'INVALID_INPUT');
        await expectError(t.store.patchConnection(connection.id, { health: { lastPushAt: -1 } }), 'INVALID_INPUT');
        await expectError(t.store.patchConnection(connection.id, { health: { lastPushAt: 5, updatedAt: 6 } as never }), 'INVALID_INPUT');
        await expectError(t.store.patchConnection(connection.id, { health: { snippet: 'quarterly numbers' } as never }), 'CONTENT_FORBIDDEN');
        await expectError(t.store.patchConnection(connection.id, { health: null as never }), 'INVALID_INPUT');
        await expectError(t.store.patchConnection(connection.id, { health: { lastPushAt: 5 }, updatedAt: -2 }), 'INVALID_INPUT');
      });
    });

    it('init is idempotent and keeps what is stored', async () => {
      const connection = makeConnection();
      await seed(t.store, connection, [makeMessage(connection)]);
      await t.store.init();
      expect(await t.store.getConnection(connection.id)).toEqual(connection);
      expect(await t.store.listProviderMessageIds(connection.id)).toHaveLength(1);
    });
  });
}
