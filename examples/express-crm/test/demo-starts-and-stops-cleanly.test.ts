// README command 1 (`pnpm demo`) as a new user runs it: the data folder does not exist yet (nor
// its parent), the demo must start anyway, serve the page, and end with exit code 0 on Ctrl-C
// or SIGTERM — the whole pnpm → tsx → node chain, so pnpm prints no ERR_PNPM_* on the way out.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_DIRECTORY } from '../src/config.js';

const REPOSITORY = resolve(EXAMPLE_DIRECTORY, '../..');

interface RunningDemo {
  child: ChildProcess;
  url: string;
  output: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startDemo(dataDir: string): Promise<RunningDemo> {
  const environment: NodeJS.ProcessEnv = { ...process.env, PORT: '0', THREADLINK_DATA_DIR: dataDir, THREADLINK_LOG: 'silent', DEMO_SEED_HISTORY: 'false' };
  // A user's shell has no DATABASE_URL (CI's test environment does): the demo's default is PGlite.
  delete environment.DATABASE_URL;
  // `pnpm run demo` is `pnpm demo`. Its own process group, as a terminal's foreground job: Ctrl-C signals pnpm and the demo's node alike.
  const child = spawn('pnpm', ['run', 'demo'], { cwd: REPOSITORY, env: environment, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.once('exit', (code, signal) => resolveExit({ code, signal })),
  );
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setInterval(() => {
      const match = /open (http:\/\/\S+)/.exec(output);
      if (match?.[1]) {
        clearInterval(timer);
        resolveUrl(match[1]);
      }
    }, 50);
    void exit.then(({ code, signal }) => {
      clearInterval(timer);
      reject(new Error(`pnpm demo exited (${code ?? signal}) before printing its URL:\n${output}`));
    });
  });
  return { child, url, output: () => output, exit };
}

describe('pnpm demo on a pristine checkout', () => {
  let root: string;
  let running: RunningDemo | undefined;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'threadlink-pristine-'));
  });
  afterAll(async () => {
    if (running && running.child.exitCode === null && running.child.signalCode === null) process.kill(-running.child.pid!, 'SIGKILL');
    await rm(root, { recursive: true, force: true });
  });

  it('starts without a data folder, serves the page, and exits 0 on Ctrl-C', async () => {
    const dataDir = join(root, 'checkout', '.threadlink-data');
    running = await startDemo(dataDir);

    const page = await fetch(running.url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    expect((await stat(join(dataDir, 'pglite'))).isDirectory()).toBe(true);

    process.kill(-running.child.pid!, 'SIGINT');
    expect(await running.exit).toEqual({ code: 0, signal: null });
    expect(running.output()).not.toMatch(/ERR_PNPM|ELIFECYCLE/);
  });

  it('exits 0 on SIGTERM too, reopening the data it kept', async () => {
    running = await startDemo(join(root, 'checkout', '.threadlink-data'));
    expect((await fetch(`${running.url}/api/connections`)).status).toBe(200);

    process.kill(-running.child.pid!, 'SIGTERM');
    expect(await running.exit).toEqual({ code: 0, signal: null });
    expect(running.output()).not.toMatch(/ERR_PNPM|ELIFECYCLE/);
  });
});
