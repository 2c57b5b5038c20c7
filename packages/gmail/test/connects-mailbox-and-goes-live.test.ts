import { randomBytes } from 'node:crypto';
import type { ThreadlinkError } from '@threadlink/core';
import { pkceChallenge } from '@threadlink/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { GMAIL_SCOPES, gmailProvider } from '../src/index.js';
import { startHarness, type Harness } from './harness.js';
import { providerFor, REDIRECT_URI, startGoogle } from './support.js';

describe('connecting a Gmail mailbox', () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it('asks for offline access with PKCE and least-privilege scopes per mode', async () => {
    const google = await startGoogle();
    try {
      const verifier = randomBytes(32).toString('base64url');
      const input = { state: 'signed-state', codeChallenge: pkceChallenge(verifier), redirectUri: REDIRECT_URI, loginHint: 'ana@acme.test' };
      const full = new URL(await providerFor(google).authorizeUrl(input));
      expect(full.origin + full.pathname).toBe(google.providerOptions.oauthEndpoints.oauth2AuthBaseUrl);
      expect(full.searchParams.get('scope')?.split(' ').sort()).toEqual([GMAIL_SCOPES.readonly, GMAIL_SCOPES.send].sort());
      expect(full.searchParams.get('code_challenge')).toBe(pkceChallenge(verifier));
      expect(full.searchParams.get('code_challenge_method')).toBe('S256');
      expect(full.searchParams.get('access_type')).toBe('offline');
      expect(full.searchParams.get('state')).toBe('signed-state');
      expect(full.searchParams.get('login_hint')).toBe('ana@acme.test');
      const metadata = new URL(await providerFor(google, { mode: 'metadata' }).authorizeUrl(input));
      expect(metadata.searchParams.get('scope')?.split(' ').sort()).toEqual([GMAIL_SCOPES.metadata, GMAIL_SCOPES.send].sort());
    } finally {
      await google.close();
    }
  });

  it('validates its options at the boundary', async () => {
    const google = await startGoogle();
    try {
      expect(() => gmailProvider({ ...google.providerOptions })).not.toThrow();
      const invalid = () => gmailProvider({ ...google.providerOptions, pubsubTopic: 'gmail-topic', backfillQuotaShare: 1.5 });
      expect(invalid).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/pubsubTopic.*backfillQuotaShare/s) }));
      // Strict, like outlookProvider: a misspelt option is reported, not silently ignored.
      const misspelt = () => gmailProvider({ ...google.providerOptions, batchsize: 20 } as unknown as Parameters<typeof gmailProvider>[0]);
      expect(misspelt).toThrow(
        expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/^gmailProvider options are invalid: unknown option batchsize$/) }),
      );
    } finally {
      await google.close();
    }
  });

  it('refuses a code exchanged with the wrong PKCE verifier', async () => {
    const google = await startGoogle();
    try {
      google.addMailbox({ email: 'ana@acme.test' });
      const provider = providerFor(google);
      const verifier = randomBytes(32).toString('base64url');
      const url = await provider.authorizeUrl({ state: 's', codeChallenge: pkceChallenge(verifier), redirectUri: REDIRECT_URI });
      const code = new URL(await google.authorize(url, { email: 'ana@acme.test' })).searchParams.get('code') ?? '';
      const error = await provider
        .exchangeCode({ code, codeVerifier: randomBytes(32).toString('base64url'), redirectUri: REDIRECT_URI })
        .catch((caught: unknown) => caught);
      expect((error as ThreadlinkError).code).toBe('OAUTH_FAILED');
    } finally {
      await google.close();
    }
  });

  it('goes live on the watch historyId with sealed tokens and a daily renewal', async () => {
    harness = await startHarness();
    const { google, store } = harness;
    const connection = await harness.connect('ana@acme.test');

    expect(connection.accountEmail).toBe('ana@acme.test');
    // Live at once (status backfilling while history loads), then live again when the back-fill is done.
    const live = harness.eventsNamed('connection.live');
    expect(live[0]?.connection.cursor).toMatch(/^\d+$/);
    expect(live.at(-1)?.connection.status).toBe('live');
    const stored = await store.getConnection(connection.id);
    expect(stored?.status).toBe('live');
    const watch = google.watchOf('ana@acme.test');
    expect(watch?.topicName).toBe(google.providerOptions.pubsubTopic);
    // The cursor is the historyId users.watch returned (the first call after profile + token).
    expect(stored?.cursor).toMatch(/^\d+$/);
    expect(stored?.subscription?.expiresAt).toBe(watch?.expiration);
    const now = Date.now();
    expect(stored?.subscription?.renewAt).toBeGreaterThan(now + 23 * 3600_000);
    expect(stored?.subscription?.renewAt).toBeLessThanOrEqual(now + 24 * 3600_000);
    expect(stored?.scopes.sort()).toEqual([GMAIL_SCOPES.readonly, GMAIL_SCOPES.send].sort());
    // Tokens are sealed at rest: no access or refresh token in any stored row.
    const dump = JSON.stringify(await store.raw.dump());
    expect(dump).not.toMatch(/ya29\./);
    expect(dump).not.toMatch(/1\/\/0g/);
    expect(google.log.count({ operation: 'watch' })).toBe(1);
  });
});
