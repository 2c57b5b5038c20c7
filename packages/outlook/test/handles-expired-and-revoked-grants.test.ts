import { afterEach, describe, expect, it } from 'vitest';
import { expectThreadlinkError, startHarness, type Harness } from './support.js';

const HOUR = 3_600_000;

describe('tokens: silent refresh from the stored MSAL cache, revocation → AUTH_REVOKED', () => {
  let harness: Harness;
  afterEach(async () => harness?.close());

  it('refreshes silently when the access token is near expiry and persists the new MSAL cache', async () => {
    // Four-minute tokens are inside the five-minute safety margin from the start.
    harness = await startHarness({ emulator: { accessTokenLifetimeSeconds: 240 } });
    const connected = await harness.connect('ana@contoso.com');
    const original = JSON.parse(connected.connection.sealedTokens) as { accessToken: string; cache: string };

    await harness.ms.deliver({ from: 'x@acme.com', to: 'ana@contoso.com', subject: 'later', text: 'x' });
    const later = harness.sessionFor(connected.connection);
    const result = await harness.provider.pullChanges(later.session, connected.connection.cursor!);
    expect(result.changes).toHaveLength(1);
    // One refresh for the whole call, shared by its concurrent requests.
    expect(later.tokenUpdates).toHaveLength(1);
    const refreshed = later.tokenUpdates[0]!;
    expect(refreshed.accessToken).not.toBe(original.accessToken);
    expect(refreshed.expiresAt).toBeGreaterThan(Date.now());
    expect(refreshed.cache).toBeDefined();
    expect(refreshed.cache).not.toBe(original.cache);

    // The next call refreshes from the persisted cache (the refresh token it holds still works).
    const next = harness.sessionFor(connected.connection);
    await harness.provider.pullChanges(next.session, result.nextCursor);
    expect(next.tokenUpdates).toHaveLength(1);
    expect(next.tokenUpdates[0]?.accessToken).not.toBe(refreshed.accessToken);
  });

  it('makes no token request while the stored access token is fresh', async () => {
    harness = await startHarness();
    const connected = await harness.connect('ana@contoso.com');
    const fresh = harness.sessionFor(connected.connection);
    await harness.provider.pullChanges(fresh.session, connected.connection.cursor!);
    expect(fresh.tokenUpdates).toHaveLength(0);
  });

  it('forces one refresh when Graph rejects a token our clock still considers valid', async () => {
    harness = await startHarness();
    const connected = await harness.connect('ana@contoso.com');
    // Graph's clock is ahead: the token is expired there but not here.
    harness.ms.advanceTime(2 * HOUR);
    const fresh = harness.sessionFor(connected.connection);
    await harness.provider.pullChanges(fresh.session, connected.connection.cursor!);
    expect(fresh.tokenUpdates).toHaveLength(1);
  });

  it('reports AUTH_REVOKED when the grant is revoked (refresh answers invalid_grant)', async () => {
    harness = await startHarness();
    const connected = await harness.connect('ana@contoso.com');
    harness.ms.revokeTokens('ana@contoso.com');
    const later = harness.sessionFor(connected.connection);
    const error = await expectThreadlinkError(harness.provider.pullChanges(later.session, connected.connection.cursor!), 'AUTH_REVOKED');
    expect(error.retryable).toBe(false);
    expect(later.tokenUpdates).toHaveLength(0);
  });

  it('completes revoke() even when the grant is already dead, and deletes subscriptions when it is not', async () => {
    harness = await startHarness();
    const alive = await harness.connect('ana@contoso.com');
    const dead = await harness.connect('bob@contoso.com');
    harness.ms.revokeTokens('bob@contoso.com');
    await harness.provider.revoke(dead.session);
    await harness.provider.revoke(alive.session);
    const remaining = harness.ms.subscriptions().map((entry) => entry.id);
    expect(remaining.sort()).toEqual(dead.connection.subscription!.items.map((item) => item.id).sort());
  });
});
