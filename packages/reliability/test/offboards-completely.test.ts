// Offboarding: after disconnect({ purge: true }) no physical row anywhere names the connection
// or its mailbox; the provider saw the watch stopped / the subscriptions deleted and (Google)
// the grant revoked, so the old refresh token is dead. The other mailbox is untouched.
import { createSealer } from '@threadlink/core';
import { describe, expect, it } from 'vitest';
import { connectedWorld } from '../src/fixture.js';
import { canaryHits } from '../src/ground-truth.js';
import { sqlKind, type StoreKind } from '../src/stores.js';

const kinds: StoreKind[] = ['memory', sqlKind()];

describe.each(kinds)('offboarding on %s', (storeKind) => {
  it('leaves zero rows for the connection and stops, deletes and revokes at the provider', async () => {
    const fixture = await connectedWorld({ storeKind, seed: 97 });
    const { world, gmail, outlook, gmailEmail, outlookEmail } = fixture;
    try {
      const tl = world.any().tl;
      const scope = { tenantId: world.tenantId, as: 'admin' } as const;
      // Give every table something: messages, links (automatic and manual), claims, leases.
      await world.google.deliver({ from: 'buyer@bigco.test', to: gmailEmail, subject: 'Quote PRJ-1004', text: 'x' });
      await world.microsoft.deliver({ from: 'buyer@bigco.test', to: outlookEmail, subject: 'Quote PRJ-1004', text: 'x' });
      await world.settle();
      const store = world.backend.primary;
      for (const connection of [gmail, outlook]) {
        const [first] = await store.listProviderMessageIds(connection.id);
        const message = (await store.getMessageByProviderId(connection.id, first!))!;
        await tl.matching.link(message.id, { type: 'project', id: 'p-manual' }, scope);
      }
      const dumpBefore = await world.backend.dump();
      for (const connection of [gmail, outlook]) expect(canaryHits(connection.id, dumpBefore).length).toBeGreaterThanOrEqual(3);
      const sealer = createSealer(world.sealingKeys);
      const googleTokens = JSON.parse(sealer.open((await store.getConnection(gmail.id))!.sealedTokens, 'provider-tokens')) as { refreshToken: string };
      expect(world.google.watchOf(gmailEmail)).not.toBeNull();
      expect(world.microsoft.subscriptions().some((subscription) => subscription.mailbox === outlookEmail)).toBe(true);

      const gmailResult = await tl.connections.disconnect(gmail.id, { purge: true, tenantId: world.tenantId, as: 'admin' });
      expect(gmailResult).toMatchObject({ unsubscribed: true, revoked: true });
      expect(gmailResult.purged?.messages).toBeGreaterThan(0);
      await world.settle();

      // Gmail: watch stopped, grant revoked (the refresh token no longer mints access tokens).
      expect(world.google.watchOf(gmailEmail)).toBeNull();
      expect(world.google.log.count({ operation: 'oauth.revoke' })).toBeGreaterThan(0);
      const { clientId, clientSecret, oauthEndpoints } = world.google.providerOptions;
      const refresh = await fetch(oauthEndpoints.oauth2TokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: googleTokens.refreshToken, client_id: clientId, client_secret: clientSecret }),
      });
      expect(refresh.status).toBe(400);
      expect((await refresh.json()).error).toBe('invalid_grant');
      // The Outlook mailbox is untouched.
      expect(world.microsoft.subscriptions().some((subscription) => subscription.mailbox === outlookEmail)).toBe(true);
      expect((await store.listProviderMessageIds(outlook.id)).length).toBeGreaterThan(0);

      // Outlook: subscriptions deleted (Microsoft has no per-app token revocation endpoint; the
      // sealed MSAL cache is purged with the connection).
      const outlookResult = await tl.connections.disconnect(outlook.id, { purge: true, tenantId: world.tenantId, as: 'admin' });
      expect(outlookResult.unsubscribed).toBe(true);
      await world.settle();
      expect(world.microsoft.subscriptions().some((subscription) => subscription.mailbox === outlookEmail)).toBe(false);

      const dumpAfter = await world.backend.dump();
      for (const [connection, email] of [
        [gmail, gmailEmail],
        [outlook, outlookEmail],
      ] as const) {
        expect(canaryHits(connection.id, dumpAfter)).toEqual([]);
        expect(canaryHits(email, dumpAfter)).toEqual([]);
      }
      // Notifications that still arrive for the purged mailboxes are acked and do nothing.
      const calls = fixture.providerCalls();
      await world.google.deliver({ from: 'buyer@bigco.test', to: gmailEmail, subject: 'After offboarding', text: 'x' });
      await world.microsoft.deliver({ from: 'buyer@bigco.test', to: outlookEmail, subject: 'After offboarding', text: 'x' });
      await world.settle();
      expect(fixture.providerCalls()).toBe(calls);
      expect(canaryHits(gmailEmail, await world.backend.dump())).toEqual([]);
    } finally {
      await world.close();
    }
  });
});
