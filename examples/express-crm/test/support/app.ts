// Starts the example in-process on a free port, in demo mode, with a store the test chooses.
import type { ThreadlinkEvents } from '@threadlink/core';
import { createApp, type App, type AppHooks } from '../../src/app.js';
import { loadConfig, type AppConfig } from '../../src/config.js';

export async function startTestApp(overrides: Partial<AppConfig> = {}, hooks: AppHooks = {}): Promise<App> {
  const base = loadConfig({ THREADLINK_LOG: 'silent' });
  return createApp({ ...base, port: 0, storage: { kind: 'memory' }, demo: { seedHistory: false }, ...overrides }, hooks);
}

/** Resolves with the first `name` event that satisfies `accept`. */
export function nextEvent<Name extends keyof ThreadlinkEvents>(
  app: App,
  name: Name,
  accept: (payload: ThreadlinkEvents[Name]) => boolean = () => true,
  timeoutMs = 20_000,
): Promise<ThreadlinkEvents[Name]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`No ${name} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = app.tl.on(name, (payload) => {
      if (!accept(payload)) return;
      clearTimeout(timer);
      off();
      resolve(payload);
    });
  });
}

export async function postJson(app: App, path: string, body: unknown = {}): Promise<Response> {
  return fetch(`${app.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

/**
 * Connects a demo mailbox the way the page does: ask the API for the consent URL, approve it
 * on the emulator, then let the browser's redirect hit the app's OAuth callback.
 */
export async function connectDemoMailbox(app: App, provider: 'gmail' | 'outlook'): Promise<string> {
  const response = await postJson(app, `/api/connect/${provider}`);
  const { url } = (await response.json()) as { url: string };
  // What the browser keeps from that answer and sends back to the callback path.
  const cookies = response.headers.getSetCookie().map((header) => header.split(';')[0]!);
  if (!app.demo) throw new Error('not in demo mode');
  // Outlook's consent URL points at the app's relay; the emulator's helper wants its own origin.
  const consentUrl = provider === 'outlook' ? url.replace(app.url, app.demo.graph.identityUrl) : url;
  const redirect = provider === 'gmail' ? await app.demo.gmail.authorize(consentUrl) : await app.demo.graph.authorize(consentUrl);
  const callback = await fetch(redirect, { redirect: 'manual', headers: { cookie: cookies.join('; ') } });
  const location = callback.headers.get('location');
  if (callback.status !== 302 || !location) throw new Error(`OAuth callback answered ${callback.status}: ${await callback.text()}`);
  const connected = new URL(location).searchParams.get('connected');
  if (!connected) throw new Error(`OAuth callback redirected to ${location}`);
  return connected;
}

/** The demo with its seeded history and one mailbox (Gmail unless said) connected and synced: where the browser tests of the panels start. */
export async function startConnectedDemo(hooks: AppHooks = {}, provider: 'gmail' | 'outlook' = 'gmail'): Promise<App> {
  const app = await startTestApp({ demo: { seedHistory: true } }, hooks);
  await connectDemoMailbox(app, provider);
  await app.tl.idle();
  return app;
}

/** The addresses of every mailbox an organization owns in the demo tenant, sorted. */
export async function orgMailboxes(app: App): Promise<string[]> {
  const scope = { tenantId: loadConfig({ THREADLINK_LOG: 'silent' }).tenantId, as: 'admin' } as const;
  return (await app.tl.connections.list(scope))
    .filter((connection) => connection.orgId)
    .map((connection) => connection.accountEmail)
    .sort();
}
