import { internalsOf } from '@threadlink/core/testing';
import { describe, expect, it } from 'vitest';
import { startHarness } from './harness.js';

const ANA = 'ana@acme.test';

describe('offboarding', () => {
  it('stops the watch, revokes the grant at Google and leaves zero rows', async () => {
    const harness = await startHarness();
    try {
      const { google, store, tl } = harness;
      const connection = await harness.connect(ANA);
      await google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'PRJ-1042 kickoff' });
      await google.deliver({ to: ANA, from: 'other@elsewhere.test', subject: 'Lunch?' });
      await harness.settle();
      expect(await store.listProviderMessageIds(connection.id)).toHaveLength(2);
      expect(google.watchOf(ANA)).not.toBeNull();
      const sealed = (await store.getConnection(connection.id))!.sealedTokens;
      const tokens = JSON.parse(internalsOf(tl).sealer.open(sealed, 'provider-tokens')) as { accessToken: string; refreshToken: string };
      google.log.clear();

      const outcome = await tl.connections.disconnect(connection.id, { tenantId: 't1', as: 'admin', purge: true });

      expect(outcome).toMatchObject({ unsubscribed: true, revoked: true });
      expect(google.watchOf(ANA)).toBeNull();
      expect(google.log.entries.map((entry) => `${entry.operation} ${entry.status}`)).toEqual(expect.arrayContaining(['stop 204', 'oauth.revoke 200']));
      // The grant is dead at Google: neither token works any more.
      const refresh = await fetch(google.providerOptions.oauthEndpoints.oauth2TokenUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: tokens.refreshToken,
          client_id: google.providerOptions.clientId,
          client_secret: google.providerOptions.clientSecret,
        }),
      });
      expect(refresh.status).toBe(400);
      expect(await refresh.json()).toMatchObject({ error: 'invalid_grant' });
      const profile = await fetch(`${google.url}/gmail/v1/users/me/profile`, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
      expect(profile.status).toBe(401);
      const dump = await store.raw.dump();
      const leftovers = JSON.stringify(dump);
      expect(leftovers).not.toContain(connection.id);
      expect(leftovers).not.toContain(ANA);
      expect(await store.getConnection(connection.id)).toBeNull();

      // A late push for the mailbox is acknowledged and does nothing.
      google.log.clear();
      await google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'After offboarding' });
      await harness.settle();
      expect(google.log.count({ operation: 'history.list' })).toBe(0);
      expect(await store.listConnections({ tenantId: 't1' })).toEqual([]);
    } finally {
      await harness.close();
    }
  });
});
