// The `threadlink-doctor` bin as an operator runs it: configuration from environment variables,
// a readable list or --json, and the exit code a deploy script can gate on.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DoctorReport } from '../src/index.js';
import { startDeployment, type Deployment } from './support/deployment.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from source (as `pnpm doctor` does) with exactly these variables. */
function doctor(args: string[], environment: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--conditions=source', CLI, ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', NO_COLOR: '1', ...environment }, timeout: 60_000 },
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
    expect(run.stdout.split('\n')[0]).toBe('threadlink doctor: 13 passed, 1 warning, 0 failed, 2 skipped');
    expect(run.stdout).toContain('  PASS  Notification URL answers Graph’s validation handshake [microsoft.notification-url]');
    expect(run.stdout).toContain('  SKIP  Store is reachable [store-reachable]');
  });

  it('exits 1 and prints JSON with every fix when a check fails', async () => {
    const environment: Record<string, string> = { ...healthyEnvironment(), GOOGLE_PUBSUB_TOPIC: 'projects/threadlink-emulator/topics/missing', THREADLINK_SEALING_KEYS: 'k1:tooshort' };
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
    expect(help.stdout).toContain('Usage: threadlink-doctor [--json]');
    expect(help.stdout).toContain('GOOGLE_PUBSUB_API_URL');
    const unknown = await doctor(['--jsn'], {});
    expect(unknown.code).toBe(2);
    expect(unknown.stderr.split('\n')[0]).toBe('Unknown argument: --jsn');
  });
});
