// Issue 17 (1): a connect link is not a bearer token. The state sealed by connect.start completes
// only in the browser that holds its connect cookie (the handler's callback route), or for the
// signed-in user it was started for (a host calling connect.complete itself); the loginHint is
// enforced; any provider answer spends the state; an off-site returnTo is refused up front.
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler, type ConnectCookie, type ThreadlinkEvents } from '@threadlink/core';
import { memoryStore } from '@threadlink/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { startedHarness } from './support/harness.js';
import { scriptedMailbox } from './support/scripted-provider.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

const base = 'https://crm.example.test/threadlink';
const pair = (cookie: Pick<ConnectCookie, 'name' | 'value'>) => `${cookie.name}=${cookie.value}`;
const callback = (query: Record<string, string>, cookieHeader?: string) =>
  new Request(`${base}/oauth/callback?${new URLSearchParams(query)}`, cookieHeader === undefined ? {} : { headers: { cookie: cookieHeader } });

async function harness(overrides: Parameters<typeof startedHarness>[0] = {}) {
  const mailbox = scriptedMailbox('ana@acme.com');
  const started = await startedHarness({ store: memoryStore(), ...overrides }, mailbox);
  stops.push(() => started.tl.stop());
  const rows = async () => (await started.store.listConnections({})).length;
  return { ...started, mailbox, rows };
}

describe('the connect cookie connect.start returns', () => {
  it('is HttpOnly, Secure, SameSite=Lax, scoped to the callback path, lives as long as the state and differs per flow', async () => {
    const { tl } = await harness({ oauthStateTtlMs: 10 * 60_000 });
    const first = await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1' });
    const second = await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1' });
    expect(first.cookie.name).toMatch(/^threadlink_connect_[A-Za-z0-9_-]{8}$/);
    expect(first.cookie.attributes).toEqual({ httpOnly: true, secure: true, sameSite: 'lax', path: '/threadlink/oauth/callback', maxAge: 600 });
    expect(first.cookie.header).toBe(
      `${first.cookie.name}=${first.cookie.value}; Path=/threadlink/oauth/callback; Max-Age=600; HttpOnly; Secure; SameSite=Lax`,
    );
    expect(first.cookie.value.length).toBeGreaterThanOrEqual(43);
    expect(second.cookie.name).not.toBe(first.cookie.name);
    expect(second.cookie.value).not.toBe(first.cookie.value);
    // Neither half carries the other: the cookie's secret is not in the URL, the state or the name.
    expect(first.url).not.toContain(first.cookie.value);
    expect(first.state).not.toContain(first.cookie.value);
  });

  it('drops Secure only for plain http on a non-loopback host', async () => {
    const secureFor = async (publicUrl: string) =>
      (await (await harness({ publicUrl })).tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1' })).cookie;
    expect((await secureFor('http://crm.internal/threadlink')).attributes.secure).toBe(false);
    expect((await secureFor('http://crm.internal/threadlink')).header).not.toContain('Secure');
    expect((await secureFor('http://127.0.0.1:3000')).attributes.secure).toBe(true);
    expect((await secureFor('http://localhost:3000/tl')).attributes).toMatchObject({ secure: true, path: '/tl/oauth/callback' });
  });
});

describe('the OAuth callback route', () => {
  it('refuses a consent URL forwarded to another browser: the victim mailbox does not land in the sender tenant', async () => {
    const { tl, mailbox, rows } = await harness();
    // The attacker, signed in to tenant "attacker-co", starts a flow and mails the consent URL to
    // the victim; the victim clicks Allow, and the provider redirects the victim's browser, which
    // never received the attacker's cookie (it may hold cookies of its own flows).
    const attacker = await tl.connect.start({ provider: 'gmail', tenantId: 'attacker-co', userId: 'mallory' });
    const victimsOwn = await tl.connect.start({ provider: 'gmail', tenantId: 'victim-co', userId: 'ana' });
    for (const cookieHeader of [undefined, '', pair(victimsOwn.cookie), `${attacker.cookie.name}=${victimsOwn.cookie.value}`]) {
      const response = await tl.handler(callback({ code: 'victims-code', state: attacker.state }, cookieHeader));
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 'OAUTH_STATE_INVALID' } });
    }
    expect(await rows()).toBe(0);
    expect(mailbox.calls.exchange).toBe(0);
  });

  it('completes in the browser holding the cookie, with two flows running at once', async () => {
    const { tl, rows } = await harness();
    const first = await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1' });
    const second = await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1' });
    const browser = `${pair(first.cookie)}; other=1; ${pair(second.cookie)}`;
    expect((await tl.handler(callback({ code: 'c2', state: second.state }, browser))).status).toBe(200);
    expect((await tl.handler(callback({ code: 'c1', state: first.state }, browser))).status).toBe(200);
    expect(await rows()).toBe(1);
  });

  it('clears the connect cookie on every outcome: connected, refused and provider error', async () => {
    const { tl } = await harness();
    const cleared = (response: Response, name: string) =>
      response.headers
        .getSetCookie()
        .some((header) => header.startsWith(`${name}=;`) && header.includes('Max-Age=0') && header.includes('Path=/threadlink/oauth/callback'));
    const ok = await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1' });
    expect(cleared(await tl.handler(callback({ code: 'c', state: ok.state }, pair(ok.cookie))), ok.cookie.name)).toBe(true);
    const refused = await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1' });
    const wrong = await tl.handler(callback({ code: 'c', state: refused.state }, `${refused.cookie.name}=forged`));
    expect(wrong.status).toBe(400);
    expect(cleared(wrong, refused.cookie.name)).toBe(true);
    const denied = await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1' });
    const answer = await tl.handler(callback({ error: 'access_denied', state: denied.state }, pair(denied.cookie)));
    expect(answer.status).toBe(400);
    expect(cleared(answer, denied.cookie.name)).toBe(true);
    // A broken state still clears whatever connect cookies the browser sent.
    expect(cleared(await tl.handler(callback({ code: 'c', state: 'garbage' }, pair(ok.cookie))), ok.cookie.name)).toBe(true);
  });

  it('spends the state on error=access_denied: a replay with a code is refused and exchanges nothing', async () => {
    const { tl, mailbox, rows } = await harness();
    const { state, cookie } = await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1' });
    const denied = await tl.handler(callback({ error: 'access_denied', state }, pair(cookie)));
    expect(await denied.json()).toMatchObject({ error: { code: 'OAUTH_FAILED' } });
    const replay = await tl.handler(callback({ code: 'late-code', state }, pair(cookie)));
    expect(await replay.json()).toMatchObject({ error: { code: 'OAUTH_STATE_INVALID' } });
    await expect(tl.connect.complete({ code: 'late-code', state }, { tenantId: 't1', userId: 'u1' })).rejects.toMatchObject({ code: 'OAUTH_STATE_INVALID' });
    expect(mailbox.calls.exchange).toBe(0);
    expect(await rows()).toBe(0);
  });

  it('sends several Set-Cookie headers through toNodeHandler', async () => {
    const { tl } = await harness({ publicUrl: 'http://127.0.0.1/threadlink' });
    const first = await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1' });
    const second = await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1' });
    const server = createServer(toNodeHandler(tl.handler));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    stops.push(() => new Promise((resolve) => server.close(() => resolve())));
    const { port } = server.address() as AddressInfo;
    const headers = await new Promise<string[]>((resolve, reject) => {
      const path = `/threadlink/oauth/callback?${new URLSearchParams({ code: 'c', state: first.state })}`;
      get({ host: '127.0.0.1', port, path, headers: { cookie: `${pair(first.cookie)}; ${pair(second.cookie)}` } }, (response) => {
        response.resume();
        resolve(response.headers['set-cookie'] ?? []);
      }).on('error', reject);
    });
    expect(headers).toHaveLength(2);
    expect(headers.map((header) => header.split('=')[0]).sort()).toEqual([first.cookie.name, second.cookie.name].sort());
  });
});

describe('connect.start', () => {
  it('refuses an off-site returnTo up front with INVALID_INPUT', async () => {
    const { tl } = await harness();
    for (const returnTo of ['https://evil.test/steal', '//evil.test/x', 'javascript:alert(1)', '/\\evil.test', 'http://crm.example.test/x']) {
      await expect(tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1', returnTo })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    }
    for (const returnTo of ['/settings/mail', '/#/client/bigco', 'https://crm.example.test/settings']) {
      await expect(tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1', returnTo })).resolves.toMatchObject({ state: expect.any(String) });
    }
  });
});

describe('connect.complete (a host completing the flow itself)', () => {
  it('refuses a session of another tenant or user without spending the state, then completes for the right one', async () => {
    const { tl, mailbox, rows } = await harness();
    const { state } = await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1' });
    for (const session of [
      { tenantId: 'attacker-co', userId: 'u1' },
      { tenantId: 't1', userId: 'mallory' },
    ]) {
      await expect(tl.connect.complete({ code: 'c', state }, session)).rejects.toMatchObject({ code: 'OAUTH_STATE_INVALID' });
    }
    expect(mailbox.calls.exchange).toBe(0);
    expect(await rows()).toBe(0);
    const connection = await tl.connect.complete({ code: 'c', state }, { tenantId: 't1', userId: 'u1' });
    expect(connection).toMatchObject({ tenantId: 't1', userId: 'u1' });
  });

  it('requires the session, and checks the cookie when the host passes the callback request Cookie header', async () => {
    const { tl, rows } = await harness();
    const { state, cookie } = await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1' });
    // @ts-expect-error: the session is required by the types too
    await expect(tl.connect.complete({ code: 'c', state })).rejects.toMatchObject({ code: 'SCOPE_REQUIRED' });
    await expect(tl.connect.complete({ code: 'c', state }, { tenantId: 't1' } as never)).rejects.toMatchObject({ code: 'SCOPE_REQUIRED' });
    await expect(tl.connect.complete({ code: 'c', state }, { tenantId: 't1', userId: 'u1', cookieHeader: 'unrelated=1' })).rejects.toMatchObject({
      code: 'OAUTH_STATE_INVALID',
    });
    expect(await rows()).toBe(0);
    await expect(tl.connect.complete({ code: 'c', state }, { tenantId: 't1', userId: 'u1', cookieHeader: pair(cookie) })).resolves.toMatchObject({
      userId: 'u1',
    });
  });
});

describe('the loginHint', () => {
  it('is enforced by default: another granted account is ACCOUNT_MISMATCH, its grant revoked, nothing stored', async () => {
    const { tl, mailbox, rows } = await harness();
    const { state } = await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1', loginHint: 'ana.work@acme.com' });
    const error = await tl.connect.complete({ code: 'c', state }, { tenantId: 't1', userId: 'u1' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ACCOUNT_MISMATCH', status: 403 });
    expect(mailbox.revokedTokens).toEqual(['access-secret-123']);
    expect(mailbox.calls.subscribe).toBe(0);
    expect(await rows()).toBe(0);
  });

  it('matches case-insensitively', async () => {
    const { tl, mailbox } = await harness();
    const { state } = await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1', loginHint: 'ANA@Acme.com' });
    await expect(tl.connect.complete({ code: 'c', state }, { tenantId: 't1', userId: 'u1' })).resolves.toMatchObject({ accountEmail: 'ana@acme.com' });
    expect(mailbox.revokedTokens).toEqual([]);
  });

  it("in 'warn' mode connects the granted account, logs a warning and emits connection.account_mismatch", async () => {
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (message: string) => void warnings.push(message) };
    const { tl, mailbox, rows } = await harness({ connect: { loginHint: 'warn' }, logger });
    const seen: Array<ThreadlinkEvents['connection.account_mismatch']> = [];
    tl.on('connection.account_mismatch', (payload) => seen.push(payload));
    const { state } = await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1', loginHint: 'ana.work@acme.com' });
    const connection = await tl.connect.complete({ code: 'c', state }, { tenantId: 't1', userId: 'u1' });
    expect(connection.accountEmail).toBe('ana@acme.com');
    expect(await rows()).toBe(1);
    expect(mailbox.revokedTokens).toEqual([]);
    expect(warnings).toContain('connected another account than the login hint');
    expect(seen).toEqual([
      { connectionId: connection.id, tenantId: 't1', userId: 'u1', provider: 'gmail', loginHint: 'ana.work@acme.com', accountEmail: 'ana@acme.com' },
    ]);
  });
});
