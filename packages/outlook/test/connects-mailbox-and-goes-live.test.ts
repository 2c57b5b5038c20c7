import { sha256Hex } from '@threadlink/core/provider';
import { afterEach, describe, expect, it } from 'vitest';
import { scopesFor } from '../src/index.js';
import { startHarness, type Harness } from './support.js';

describe('connect: MSAL auth code + PKCE, /me, one subscription per folder', () => {
  let harness: Harness;
  afterEach(async () => harness?.close());

  it('exchanges the code through msal-node, keeps the MSAL cache in the tokens, and subscribes every synced folder (Inbox, Sent Items, Archive) by id', async () => {
    harness = await startHarness();
    const { connection } = await harness.connect('ana@contoso.com');

    expect(connection.accountEmail).toBe('ana@contoso.com');
    const tokens = JSON.parse(connection.sealedTokens) as { accessToken: string; cache?: string; expiresAt?: number };
    expect(tokens.accessToken.length).toBeGreaterThan(10);
    expect(tokens.expiresAt).toBeGreaterThan(Date.now());
    const cache = JSON.parse(tokens.cache ?? '{}') as { RefreshToken?: object; Account?: object };
    expect(Object.keys(cache.RefreshToken ?? {})).toHaveLength(1);
    expect(Object.keys(cache.Account ?? {})).toHaveLength(1);
    expect(connection.scopes.map((scope) => scope.toLowerCase())).toEqual(expect.arrayContaining(['mail.readbasic', 'mail.read', 'mail.send', 'user.read']));

    const subscriptions = harness.ms.subscriptions();
    expect(subscriptions).toHaveLength(3);
    const folderIds = ['inbox', 'sentitems', 'archive'].map((name) => harness.ms.folderId('ana@contoso.com', name));
    const resources = subscriptions.map((subscription) => subscription.resource).sort();
    expect(resources).toEqual(folderIds.map((id) => `me/mailFolders('${id}')/messages`).sort());
    const now = Date.now();
    for (const subscription of subscriptions) {
      expect(subscription.changeType).toBe('created,updated,deleted');
      expect(subscription.notificationUrl).toBe(harness.webhookUrl);
      expect(subscription.lifecycleNotificationUrl).toBe(`${harness.webhookUrl}/lifecycle`);
      // Just under Graph's 10,080-minute maximum for messages.
      const minutes = (Date.parse(subscription.expirationDateTime) - now) / 60_000;
      expect(minutes).toBeGreaterThan(10_000);
      expect(minutes).toBeLessThanOrEqual(10_080);
      // Only the SHA-256 of the per-subscription clientState is kept.
      const item = connection.subscription?.items.find((entry) => entry.id === subscription.id);
      expect(item?.clientStateHash).toBe(sha256Hex(subscription.clientState ?? ''));
      expect(JSON.stringify(connection)).not.toContain(subscription.clientState);
    }
    expect(new Set(subscriptions.map((subscription) => subscription.clientState)).size).toBe(3);

    const state = connection.subscription!;
    expect(state.expiresAt).toBe(Math.min(...state.items.map((item) => item.expiresAt)));
    const lifetime = state.expiresAt - now;
    expect(state.renewAt - now).toBeGreaterThan(lifetime * 0.7);
    expect(state.renewAt - now).toBeLessThan(lifetime * 0.8);

    // Graph validated both URLs before creating each subscription.
    const validations = harness.ms.deliveries().filter((delivery) => delivery.kind === 'validation');
    expect(validations.length).toBeGreaterThanOrEqual(6);
    expect(validations.every((delivery) => delivery.status === 200)).toBe(true);

    const cursor = JSON.parse(connection.cursor!) as { links: Record<string, string> };
    expect(Object.keys(cursor.links).sort()).toEqual([...folderIds].sort());
  });

  it('asks for Mail.ReadBasic but never Mail.Read in metadata mode', async () => {
    harness = await startHarness({ provider: { mode: 'metadata' } });
    const url = new URL(await harness.provider.authorizeUrl({ state: 's', codeChallenge: 'c'.repeat(43), redirectUri: 'http://127.0.0.1:9/cb' }));
    const scopes = (url.searchParams.get('scope') ?? '').split(' ');
    expect(scopes).toEqual(expect.arrayContaining(['Mail.ReadBasic', 'Mail.Send', 'offline_access', 'User.Read']));
    expect(scopes).not.toContain('Mail.Read');
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(scopesFor('metadata')).toEqual(['Mail.ReadBasic', 'Mail.Send', 'offline_access', 'User.Read']);

    const { connection } = await harness.connect('meta@contoso.com');
    expect(connection.scopes.map((scope) => scope.toLowerCase())).not.toContain('mail.read');
  });

  it('rejects invalid options with CONFIG_INVALID', async () => {
    const { outlookProvider } = await import('../src/index.js');
    expect(() => outlookProvider({ clientId: 'x', clientSecret: 'y', authorityHost: 'http://127.0.0.1:1' })).toThrow(/https/);
    // Strict, like gmailProvider: a misspelt option is reported, not silently ignored.
    const misspelt = () => outlookProvider({ clientId: 'x', clientSecret: 'y', pagesize: 50 } as unknown as Parameters<typeof outlookProvider>[0]);
    expect(misspelt).toThrow(
      expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringMatching(/^outlookProvider options are invalid: unknown option pagesize$/) }),
    );
    harness = undefined as unknown as Harness;
  });
});
