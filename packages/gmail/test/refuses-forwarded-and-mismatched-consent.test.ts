// The connect flow against the Google emulator, through the real callback over HTTP: a consent
// URL forwarded to another person's browser connects nothing and exchanges no code; an account
// other than the loginHint is refused and its fresh grant revoked at Google; a denied consent
// spends the state.
import { describe, expect, it } from 'vitest';
import { startHarness } from './harness.js';

const VICTIM = 'victim@bigco.test';
const ANA = 'ana@acme.test';

describe('connecting through the consent page', () => {
  it('refuses a consent URL another tenant forwarded: no code exchanged, no row, and the real browser still completes', async () => {
    const harness = await startHarness();
    try {
      const { google, tl, store } = harness;
      google.addMailbox({ email: VICTIM });
      // Mallory, signed in to her own tenant, mails the consent link to the victim, who clicks Allow.
      const { url, cookie } = await tl.connect.start({ provider: 'gmail', tenantId: 'mallory-co', userId: 'mallory', loginHint: VICTIM });
      const redirect = await google.authorize(url, { email: VICTIM });
      google.log.clear();
      const victimsBrowser = await fetch(redirect);
      expect(victimsBrowser.status).toBe(400);
      expect(await victimsBrowser.json()).toMatchObject({ error: { code: 'OAUTH_STATE_INVALID' } });
      expect(google.log.count({ operation: 'oauth.token' })).toBe(0);
      expect(await store.listConnections({})).toEqual([]);
      // The cookie is what binds the link: the browser that started it completes (the refusal did not spend it).
      const ownBrowser = await fetch(redirect, { headers: { cookie: `${cookie.name}=${cookie.value}` } });
      expect(ownBrowser.status).toBe(200);
      expect((await store.listConnections({})).map((connection) => connection.tenantId)).toEqual(['mallory-co']);
      await harness.settle();
    } finally {
      await harness.close();
    }
  });

  it('refuses an account other than the loginHint with ACCOUNT_MISMATCH and revokes its grant at Google', async () => {
    const harness = await startHarness();
    try {
      const { google, tl, store } = harness;
      google.addMailbox({ email: ANA });
      google.addMailbox({ email: VICTIM });
      const { url } = await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1', loginHint: ANA });
      // A shared browser: someone else's Google session answers the consent page.
      const redirect = await google.authorize(url, { email: VICTIM });
      google.log.clear();
      const error = await tl.connect.complete(new URL(redirect), { tenantId: 't1', userId: 'u1' }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'ACCOUNT_MISMATCH', status: 403 });
      const calls = google.log.entries.map((entry) => `${entry.operation} ${entry.status}`);
      expect(calls).toEqual(expect.arrayContaining(['oauth.token 200', 'oauth.revoke 200']));
      expect(calls.filter((call) => call.startsWith('watch'))).toEqual([]);
      expect(google.watchOf(VICTIM)).toBeNull();
      expect(await store.listConnections({})).toEqual([]);
      expect(JSON.stringify(await store.raw.dump())).not.toContain(VICTIM);
    } finally {
      await harness.close();
    }
  });

  it('spends the state when the user denies consent: a replay with a code is refused', async () => {
    const harness = await startHarness();
    try {
      const { google, tl, store } = harness;
      google.addMailbox({ email: ANA });
      const { url, cookie } = await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1', loginHint: ANA });
      const denied = new URL(await google.authorize(url, { email: ANA, deny: true }));
      expect(denied.searchParams.get('error')).toBe('access_denied');
      const answer = await fetch(denied, { headers: { cookie: `${cookie.name}=${cookie.value}` } });
      expect(await answer.json()).toMatchObject({ error: { code: 'OAUTH_FAILED' } });
      // The same state with a code the attacker obtained elsewhere: already spent.
      const granted = new URL(
        await google.authorize((await tl.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1', loginHint: ANA })).url, { email: ANA }),
      );
      const replay = new URL(denied);
      replay.searchParams.delete('error');
      replay.searchParams.set('code', granted.searchParams.get('code')!);
      const refused = await fetch(replay, { headers: { cookie: `${cookie.name}=${cookie.value}` } });
      expect(await refused.json()).toMatchObject({ error: { code: 'OAUTH_STATE_INVALID' } });
      expect(await store.listConnections({})).toEqual([]);
    } finally {
      await harness.close();
    }
  });
});
