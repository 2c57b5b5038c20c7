// The example's connect button, over HTTP: the app hands the browser the connect cookie with the
// consent URL, and the OAuth callback (tl.handler under /threadlink) completes only for the
// browser holding it. A consent link forwarded to someone else connects nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { postJson, startTestApp } from './support/app.js';

describe('the connect link', () => {
  let app: App;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('comes with an HttpOnly cookie for the callback path, and is refused in a browser without it', async () => {
    const response = await postJson(app, '/api/connect/gmail');
    const { url } = (await response.json()) as { url: string };
    const [setCookie] = response.headers.getSetCookie();
    expect(setCookie).toMatch(
      /^threadlink_connect_[A-Za-z0-9_-]{8}=[A-Za-z0-9_-]+; Path=\/threadlink\/oauth\/callback; Max-Age=\d+; HttpOnly; Secure; SameSite=Lax$/,
    );
    const redirect = await app.demo!.gmail.authorize(url);

    // Forwarded: the other browser never got the cookie.
    const forwarded = await fetch(redirect, { redirect: 'manual' });
    expect(forwarded.status).toBe(302);
    expect(new URL(forwarded.headers.get('location')!).searchParams.get('error')).toBe('OAUTH_STATE_INVALID');
    expect((await (await fetch(`${app.url}/api/connections`)).json()) as { connections: unknown[] }).toEqual({ connections: [] });

    // The browser that clicked "Connect" completes, and is told to forget the cookie.
    const own = await fetch(redirect, { redirect: 'manual', headers: { cookie: setCookie!.split(';')[0]! } });
    expect(new URL(own.headers.get('location')!).searchParams.get('connected')).toMatch(/^con_/);
    expect(own.headers.getSetCookie()).toEqual([
      expect.stringMatching(/^threadlink_connect_[A-Za-z0-9_-]{8}=; Path=\/threadlink\/oauth\/callback; Max-Age=0;/),
    ]);
  });
});
