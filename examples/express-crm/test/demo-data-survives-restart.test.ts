// The default store is PGlite on disk: stop the app, start it again on the same data directory
// and the mail metadata is still there, sealed with the key demo mode kept beside it. The
// emulators start empty each run, so the old grant is reported as needing re-auth.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createApp, type App } from '../src/app.js';
import { loadConfig, type AppConfig } from '../src/config.js';
import { connectDemoMailbox, nextEvent, postJson } from './support/app.js';

describe('demo mode on the default PGlite store', () => {
  let dataDir: string;
  let config: AppConfig;
  let second: App | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'threadlink-crm-data-'));
    config = { ...loadConfig({ THREADLINK_LOG: 'silent', THREADLINK_DATA_DIR: dataDir, DEMO_SEED_HISTORY: 'false' }), port: 0 };
  });
  afterAll(async () => {
    await second?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('keeps mail metadata across a restart and flags the stale grant for re-auth', async () => {
    expect(config.storage).toEqual({ kind: 'pglite', dataDir: join(dataDir, 'pglite') });
    const first = await createApp(config);
    let connectionId: string;
    try {
      connectionId = await connectDemoMailbox(first, 'gmail');
      const matched = nextEvent(first, 'message.matched', ({ message }) => message.subject === 'Handover – PRJ-1042');
      await postJson(first, '/api/demo/send', { provider: 'gmail', from: 'client@bigco.com', subject: 'Handover – PRJ-1042', text: 'Signed off.' });
      await matched;
      await first.tl.idle();
    } finally {
      await first.close();
    }

    const keyFile = await stat(join(dataDir, 'sealing-key.json'));
    expect(keyFile.mode & 0o777).toBe(0o600);

    second = await createApp(config);
    const timeline = (await (await fetch(`${second.url}/api/records/project/PRJ-1042/timeline`)).json()) as { threads: Array<{ subject: string }> };
    expect(timeline.threads.map((thread) => thread.subject)).toEqual(['Handover – PRJ-1042']);

    await vi.waitFor(
      async () => {
        const { connections } = (await (await fetch(`${second!.url}/api/connections`)).json()) as { connections: Array<{ id: string; status: string }> };
        expect(connections).toEqual([expect.objectContaining({ id: connectionId, status: 'needs_reauth' })]);
      },
      { timeout: 20_000, interval: 100 },
    );
  });
});
