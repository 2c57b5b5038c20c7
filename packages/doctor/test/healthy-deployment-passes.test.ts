// A correctly configured deployment: every check passes; the only finding is the warning that
// a loopback public URL is unreachable for the real providers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatReport, runDoctor, type DoctorReport } from '../src/index.js';
import { startDeployment, type Deployment } from './support/deployment.js';

let deployment: Deployment;
/** One full run (the store check opens PGlite, which costs seconds), read by the first two tests. */
let report: DoctorReport;
beforeAll(async () => {
  deployment = await startDeployment();
  report = await runDoctor(deployment.config());
});
afterAll(() => deployment?.close());

describe('a correct setup', () => {
  it('passes every check and only warns that the loopback URL is private', () => {
    const statuses = Object.fromEntries(report.checks.map((check) => [check.id, check.status]));
    expect(statuses).toEqual({
      'providers-configured': 'pass',
      'public-url': 'warn',
      'oauth-redirect-uri': 'pass',
      'sealing-keys': 'pass',
      'store-reachable': 'pass',
      'store-migrated': 'pass',
      'google.oauth-client': 'pass',
      'google.scopes': 'pass',
      'google.pubsub-topic': 'pass',
      'google.publisher-grant': 'pass',
      'google.push-subscription': 'pass',
      'google.push-authentication': 'pass',
      'google.webhook-route': 'pass',
      // No GOOGLE_DELEGATION_KEY_FILE: this deployment has no Workspace organization connections.
      'google.domain-wide-delegation': 'skip',
      'microsoft.app-registration': 'pass',
      'microsoft.notification-url': 'pass',
      'microsoft.lifecycle-url': 'pass',
      // No organization tenant configured: the application-permission check has nothing to check
      // (it runs in finds-org-app-permission-problems.test.ts).
      'microsoft.org-app-permissions': 'skip',
    });
    expect(report.ok).toBe(true);
    expect(report.counts).toEqual({ pass: 15, warn: 1, fail: 0, skip: 2 });
    for (const check of report.checks) expect(check.status === 'warn' ? check.fix : 'none').toBeTruthy();
  });

  it('reports what it found in words a person can act on', () => {
    const detail = (id: string) => report.checks.find((check) => check.id === id)?.detail;
    expect(detail('oauth-redirect-uri')).toBe(
      `Register exactly ${deployment.publicUrl}/oauth/callback in the Google OAuth client (Authorized redirect URIs) and the Entra ID app (Authentication → Web → Redirect URIs).`,
    );
    expect(detail('google.push-subscription')).toBe(
      `projects/threadlink-emulator/subscriptions/gmail-push (the topic’s push subscription to our endpoint) pushes to ${deployment.publicUrl}/webhooks/gmail.`,
    );
    expect(detail('google.push-authentication')).toContain('for audience "https://crm.acme.example/threadlink/webhooks/gmail" (set on the subscription)');
    expect(detail('microsoft.notification-url')).toMatch(/echoed the validation token as text\/plain in \d+ ms/);
    expect(detail('store-migrated')).toBe('Schema "threadlink" is at version 5, the latest this threadlink ships, with all 10 tables.');

    const text = formatReport(report);
    expect(text.split('\n')[0]).toBe('threadlink doctor: 15 passed, 1 warning, 0 failed, 2 skipped');
    expect(text).toContain('  WARN  Public URL is https and public [public-url]');
    expect(text).toContain('        Fix: Before connecting real mailboxes, serve the app on a public https address');
    expect(text.trimEnd().endsWith('No check failed.')).toBe(true);
  });

  it('reads Pub/Sub with GETs only', async () => {
    deployment.google.log.clear();
    await runDoctor(deployment.config({ store: false }));
    const pubsubCalls = deployment.google.log.entries.filter((entry) => entry.operation?.startsWith('pubsub.'));
    expect(pubsubCalls.map((entry) => `${entry.method} ${entry.operation}`).sort()).toEqual([
      'GET pubsub.subscriptions.get',
      'GET pubsub.topics.get',
      'GET pubsub.topics.getIamPolicy',
      'GET pubsub.topics.subscriptions.list',
    ]);
  });
});
