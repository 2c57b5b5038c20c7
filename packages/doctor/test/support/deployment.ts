// A correctly configured deployment, fully local: the Gmail + Pub/Sub and Graph emulators, a real
// createThreadlink handler (gmailProvider + outlookProvider on the emulators' providerOptions)
// served on 127.0.0.1, a migrated PGlite store, and a Google Cloud token for the doctor. Tests
// start from `deployment.config()` and break one thing at a time.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createThreadlink, generateSealingKey, type SealingKey, type Threadlink } from '@threadlink/core';
import { gmailProvider } from '@threadlink/gmail';
import { outlookProvider } from '@threadlink/outlook';
import { memoryStore } from '@threadlink/storage-memory';
import { serveWebHandler, startGmailEmulator, startGraphEmulator, type GmailEmulator, type GraphEmulator, type ServedHandler } from '@threadlink/testing';
import { inject } from 'vitest';
import type { CheckResult, DoctorConfig, DoctorReport } from '../../src/index.js';

export const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';
/** The audience the host configured (deliberately not the endpoint URL, Pub/Sub's default). */
export const PUSH_AUDIENCE = 'https://crm.acme.example/threadlink/webhooks/gmail';

export type HealthyConfig = DoctorConfig & { google: NonNullable<DoctorConfig['google']>; microsoft: NonNullable<DoctorConfig['microsoft']> };

export interface Deployment {
  google: GmailEmulator;
  microsoft: GraphEmulator;
  tl: Threadlink;
  served: ServedHandler;
  publicUrl: string;
  sealingKeys: SealingKey[];
  pgliteDir: string;
  /** A bearer token for the emulator's Pub/Sub admin API (cloud-platform scope). */
  cloudToken: string;
  /**
   * The healthy configuration; each call returns a fresh copy to break. `store: false` leaves the
   * store out (its checks skip), for tests about other things: opening PGlite costs seconds.
   */
  config(options?: { store?: boolean }): HealthyConfig;
  close(): Promise<void>;
}

/** A scratch directory under the OS temp folder, removed by the returned function. */
export async function scratchDirectory(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `threadlink-doctor-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** A private copy of a PGlite template made by global-setup.ts (creating one costs seconds). */
export async function pgliteCopy(template: 'migrated' | 'blank'): Promise<{ path: string; remove: () => Promise<void> }> {
  const directory = await scratchDirectory('pglite');
  await cp(inject(template === 'migrated' ? 'pgliteMigratedTemplate' : 'pgliteBlankTemplate'), directory.path, { recursive: true });
  return directory;
}

export async function startDeployment(): Promise<Deployment> {
  const google = await startGmailEmulator();
  const microsoft = await startGraphEmulator();
  let handler: ((request: Request) => Promise<Response>) | undefined;
  const served = await serveWebHandler((request) => (handler ? handler(request) : Promise.resolve(new Response(null, { status: 503 }))));
  const publicUrl = `${served.url}/threadlink`;
  google.setPushEndpoint({ endpoint: `${publicUrl}/webhooks/gmail`, audience: PUSH_AUDIENCE });
  const sealingKeys = [{ id: 'k2026', key: generateSealingKey() }];
  const tl = createThreadlink({
    store: memoryStore(),
    providers: [gmailProvider({ ...google.providerOptions }), outlookProvider({ ...microsoft.providerOptions })],
    resolver: { contactsByEmail: async () => [] },
    sealingKeys,
    publicUrl,
    maintenanceIntervalMs: 0,
  });
  handler = tl.handler;
  await tl.start();
  const pglite = await pgliteCopy('migrated');
  const { access_token: cloudToken } = await google.issueTokens({ email: 'ops@acme.example', scopes: [CLOUD_PLATFORM] });
  const options = google.providerOptions;
  return {
    google,
    microsoft,
    tl,
    served,
    publicUrl,
    sealingKeys,
    pgliteDir: pglite.path,
    cloudToken,
    config: (configOptions = {}) => ({
      publicUrl,
      sealingKeys: sealingKeys.map((key) => ({ ...key })),
      ...(configOptions.store === false ? {} : { store: { kind: 'pglite' as const, dataDir: pglite.path } }),
      google: {
        clientId: options.clientId,
        clientSecret: options.clientSecret,
        pubsubTopic: options.pubsubTopic,
        pushAudience: options.pushAudience,
        pushServiceAccount: options.pushServiceAccount,
        accessToken: cloudToken,
        pubsubApiUrl: google.url,
      },
      microsoft: { clientId: microsoft.providerOptions.clientId, clientSecret: microsoft.providerOptions.clientSecret, tenant: 'common' },
    }),
    close: async () => {
      await tl.stop();
      await served.close();
      await Promise.all([google.close(), microsoft.close()]);
      await pglite.remove();
    },
  };
}

export function resultOf(report: DoctorReport, id: string): CheckResult {
  const found = report.checks.find((check) => check.id === id);
  if (!found) throw new Error(`no check ${id} in the report`);
  return found;
}

let counter = 0;
/** A unique Pub/Sub resource id for one test's topic or subscription. */
export function uniqueId(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${counter}`;
}
