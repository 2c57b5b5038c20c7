// The `threadlink-doctor` bin as an operator runs it: configuration from environment variables,
// a readable list or --json, and the exit code a deploy script can gate on.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../src/index.js';
import { startDeployment, type Deployment } from './support/deployment.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
// By URL, so the CLI can also run from a folder without node_modules (a project with only a .env).
const TSX = import.meta.resolve('tsx');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from source (as `pnpm doctor` does) with exactly these variables. */
function doctor(args: string[], environment: Record<string, string>, cwd = ROOT): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', TSX, '--conditions=source', CLI, ...args],
      { cwd, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...environment }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let deployment: Deployment;
beforeAll(async () => {
  deployment = await startDeployment();
});
afterAll(() => deployment?.close());

function healthyEnvironment(): Record<string, string> {
  const config = deployment.config({ store: false });
  return {
    THREADLINK_PUBLIC_URL: config.publicUrl!,
    THREADLINK_SEALING_KEYS: config.sealingKeys!.map((key) => `${key.id}:${key.key}`).join(','),
    GOOGLE_CLIENT_ID: config.google.clientId!,
    GOOGLE_CLIENT_SECRET: config.google.clientSecret!,
    GOOGLE_PUBSUB_TOPIC: config.google.pubsubTopic!,
    GOOGLE_PUSH_AUDIENCE: config.google.pushAudience!,
    GOOGLE_PUSH_SERVICE_ACCOUNT: config.google.pushServiceAccount!,
    GOOGLE_ACCESS_TOKEN: config.google.accessToken!,
    GOOGLE_PUBSUB_API_URL: config.google.pubsubApiUrl!,
    MICROSOFT_CLIENT_ID: config.microsoft.clientId!,
    MICROSOFT_CLIENT_SECRET: config.microsoft.clientSecret!,
  };
}

describe('threadlink-doctor', () => {
  it('exits 0 for a healthy deployment and prints the list', async () => {
    const run = await doctor([], healthyEnvironment());
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe('threadlink doctor: 13 passed, 1 warning, 0 failed, 4 skipped');
    expect(run.stdout).toContain('  PASS  Notification URL answers Graph’s validation handshake [microsoft.notification-url]');
    expect(run.stdout).toContain('  SKIP  Store is reachable [store-reachable]');
  });

  it('exits 1 and prints JSON with every fix when a check fails', async () => {
    const environment: Record<string, string> = {
      ...healthyEnvironment(),
      GOOGLE_PUBSUB_TOPIC: 'projects/threadlink-emulator/topics/missing',
      THREADLINK_SEALING_KEYS: 'k1:tooshort',
    };
    const run = await doctor(['--json'], environment);
    expect(run.code).toBe(1);
    const report = JSON.parse(run.stdout) as DoctorReport;
    expect(report.ok).toBe(false);
    const failed = report.checks.filter((check) => check.status === 'fail');
    expect(failed.map((check) => check.id)).toEqual(['sealing-keys', 'google.pubsub-topic']);
    expect(failed.map((check) => check.fix)).toEqual([
      expect.stringMatching(/^Each key must be 32 random bytes/),
      'Create it with `gcloud pubsub topics create missing --project=threadlink-emulator`, then grant Gmail publish rights on it (see google.publisher-grant).',
    ]);
    expect(report.checks.find((check) => check.id === 'google.push-subscription')?.status).toBe('skip');
    // The report never carries the secrets it was given.
    for (const name of ['GOOGLE_CLIENT_SECRET', 'MICROSOFT_CLIENT_SECRET', 'GOOGLE_ACCESS_TOKEN']) expect(run.stdout).not.toContain(environment[name]);
  });

  it('prints usage for --help and refuses unknown arguments', async () => {
    const help = await doctor(['--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: threadlink-doctor [--env-file PATH] [--json]');
    expect(help.stdout).toContain('GOOGLE_PUBSUB_API_URL');
    const unknown = await doctor(['--jsn'], {});
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.split('\n')[0]).toBe('Unknown argument: --jsn');
  });

  it('names the variable each failing or skipped check needs', async () => {
    const run = await doctor([], {});
    expect(run.code).toBe(1);
    // The lines of one check, from its title line to the next check's.
    const block = (id: string): string => run.stdout.slice(run.stdout.indexOf(`[${id}]`)).split(/\n {2}(?=[A-Z]{4} )/)[0]!;
    expect(block('sealing-keys')).toMatch(/\n {8}Needs: THREADLINK_SEALING_KEY$/);
    expect(block('public-url')).toMatch(/\n {8}Needs: THREADLINK_PUBLIC_URL$/);
    expect(block('store-reachable')).toMatch(/^\[store-reachable\]\n {8}No store configured.*\n {8}Needs: DATABASE_URL or THREADLINK_DATA_DIR$/);
    expect(block('google.oauth-client')).toContain('Needs: GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET');
  });

  describe('with a .env file', () => {
    let folder: string;
    beforeAll(async () => {
      folder = await mkdtemp(join(tmpdir(), 'threadlink-doctor-env-'));
    });
    afterAll(() => rm(folder, { recursive: true, force: true }));

    function envFile(variables: Record<string, string>): string {
      return ['# the app is started with this file', ...Object.entries(variables).map(([name, value]) => `${name}="${value}"`), ''].join('\n');
    }

    it('reads ./.env by default, as the app beside it would be started', async () => {
      await writeFile(join(folder, '.env'), envFile(healthyEnvironment()));
      const run = await doctor([], {}, folder);
      expect(run.stdout.split('\n')[0]).toBe('Reading .env (variables set in the environment win).');
      expect(run.stdout.split('\n')[1]).toBe('threadlink doctor: 13 passed, 1 warning, 0 failed, 4 skipped');
      expect(run.code).toBe(0);
    });

    it('reads --env-file PATH, and a variable set in the environment wins over the file', async () => {
      const path = join(folder, 'production.env');
      await writeFile(path, envFile(healthyEnvironment()));
      const run = await doctor(['--env-file', path, '--json'], { THREADLINK_SEALING_KEYS: 'k1:tooshort' });
      expect(run.code).toBe(1);
      const report = JSON.parse(run.stdout) as DoctorReport;
      expect(report.checks.filter((check) => check.status === 'fail').map((check) => check.id)).toEqual(['sealing-keys']);

      // Node 20 itself also acts on a script's --env-file (and exits 9 for a missing file before the
      // doctor runs); either way a missing file is an error naming it, never a silent empty run.
      const missing = await doctor(['--env-file', join(folder, 'nope.env')], {});
      expect(missing.code).not.toBe(0);
      expect(missing.stdout).toBe('');
      expect(missing.stderr).toContain(join(folder, 'nope.env'));
    });
  });
});
