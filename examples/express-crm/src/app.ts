// createApp(config): the whole example in one call — the HTTP server on a port, threadlink with
// its store and providers (emulated in demo mode), the webhook + OAuth handler under
// /threadlink, the page's JSON API under /api, live events, and the page itself.
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import {
  consoleJsonLogger,
  createThreadlink,
  generateSealingKey,
  silentLogger,
  toNodeHandler,
  type MailProvider,
  type MetadataStore,
  type ProviderId,
  type Threadlink,
} from '@threadlink/core';
import { gmailProvider } from '@threadlink/gmail';
import { outlookProvider } from '@threadlink/outlook';
import { memoryStore } from '@threadlink/storage-memory';
import { pgliteStore, postgresStore } from '@threadlink/storage-postgres';
import { EXAMPLE_DIRECTORY, type AppConfig, type StorageConfig } from './config.js';
import { createCrm, REFERENCE_PATTERNS, type Crm } from './crm.js';
import { templateDraft, type DraftReply } from './draft.js';
import { startDemo, type Demo } from './demo.js';
import { ApiError, errorHandler, notFound } from './http-errors.js';
import { createLiveEvents } from './live-events.js';
import { composeRoutes } from './routes/compose.js';
import { connectionRoutes } from './routes/connections.js';
import type { RouteContext } from './routes/context.js';
import { assistRoutes } from './routes/assist.js';
import { demoRoutes } from './routes/demo.js';
import { eventRoutes } from './routes/events.js';
import { organizationRoutes } from './routes/organizations.js';
import { healthRoutes } from './routes/health.js';
import { matchingRoutes } from './routes/matching.js';
import { messageRoutes } from './routes/messages.js';
import { policyRoutes } from './routes/policy.js';
import { recordRoutes } from './routes/records.js';
import { sessionRoutes } from './routes/session.js';
import { demoSealingKey } from './sealing-key.js';

/** What a host plugs into the example beyond its configuration. */
export interface AppHooks {
  /** Turns a thread's draft context into reply text ("Draft a reply"); default: a template. Plug an LLM client here (see src/draft.ts). */
  draft?: DraftReply;
}

export interface App {
  app: express.Express;
  tl: Threadlink;
  crm: Crm;
  /** Present in demo mode: the emulators and "the client sends an email". */
  demo: Demo | null;
  /** Where the page is served, e.g. http://127.0.0.1:3000. */
  url: string;
  server: Server;
  close(): Promise<void>;
}

const PUBLIC_DIRECTORY = join(EXAMPLE_DIRECTORY, 'public');

// The page loads only its own script and styles. Message bodies render in a sandboxed srcdoc
// iframe, which inherits this policy: no script runs and nothing remote loads in there even if
// something slipped past the sanitiser. Inline styles are allowed for the body frame's own
// stylesheet; CSS cannot reach the network under `default-src 'none'` / `img-src 'self' data:`.
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function createStore(storage: StorageConfig): MetadataStore {
  if (storage.kind === 'memory') return memoryStore();
  if (storage.kind === 'postgres') return postgresStore({ connectionString: storage.connectionString });
  return pgliteStore({ dataDir: storage.dataDir });
}

function realProviders(config: AppConfig): MailProvider[] {
  const providers: MailProvider[] = [];
  if (config.google) providers.push(gmailProvider({ ...config.google }));
  if (config.microsoft) providers.push(outlookProvider({ ...config.microsoft }));
  return providers;
}

/** A URL for a listening address: a wildcard bind is reached through loopback. */
function originFor(host: string, port: number): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `http://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}

export async function createApp(config: AppConfig, hooks: AppHooks = {}): Promise<App> {
  const logger = config.logger === 'console' ? consoleJsonLogger() : silentLogger;
  // Listen first: in demo mode the emulators must know the webhook URL, which needs the port.
  const server = createServer();
  const port = await listen(server, config.port, config.host);
  const url = originFor(config.host, port);
  const cleanup: Array<() => Promise<unknown>> = [() => new Promise<void>((resolve) => server.close(() => resolve()))];
  const close = async (): Promise<void> => {
    server.closeAllConnections();
    for (const step of cleanup.splice(0).reverse()) await step().catch((error: unknown) => logger.warn('shutdown step failed', { error }));
  };

  try {
    // Providers push to the public URL. The emulators only reach loopback, so demo mode always
    // uses the local address; real mode uses THREADLINK_PUBLIC_URL's origin (a tunnel or the deployed host).
    const origin = config.mode === 'demo' ? url : (config.publicUrl ?? url);
    const threadlinkUrl = `${origin}/threadlink`;

    const demo = config.mode === 'demo' ? await startDemo({ threadlinkUrl, seedHistory: config.demo.seedHistory }) : null;
    if (demo) cleanup.push(() => demo.close());
    const providers = demo ? demo.providers : realProviders(config);

    // Before anything writes into it: PGlite and the demo sealing key both live in the data
    // folder, and a pristine clone has none (they used to race to create it).
    if (config.storage.kind === 'pglite' || (config.storage.kind === 'postgres' && !config.sealingKeys))
      await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    const store = createStore(config.storage);
    cleanup.push(() => store.close());
    const sealingKeys =
      config.sealingKeys ?? (config.storage.kind === 'memory' ? [{ id: 'ephemeral', key: generateSealingKey() }] : [await demoSealingKey(config.dataDir)]);

    const crm = createCrm();
    const tl = createThreadlink({
      store,
      providers,
      resolver: crm,
      sealingKeys,
      publicUrl: threadlinkUrl,
      matching: { referencePatterns: REFERENCE_PATTERNS },
      logger: config.logger,
      // start() runs tl.maintain() on this interval: watch/subscription renewals before expiry,
      // safety-net pulls for silent mailboxes, parked retries.
      maintenanceIntervalMs: config.maintainIntervalMs,
    });
    await tl.start();
    cleanup.push(() => tl.stop());

    const live = createLiveEvents(tl);
    cleanup.push(async () => live.close());

    const context: RouteContext = {
      tl,
      crm,
      config,
      demo,
      live,
      providers: providers.map((provider) => provider.id as ProviderId),
      scope: { tenantId: config.tenantId, userId: config.userId },
      origin,
    };

    const app = express();
    app.disable('x-powered-by');
    // Before the page's security headers: the relayed consent page is the emulator's, not ours.
    if (demo) app.use(demo.consentRelay);
    app.use((_request, response, next) => {
      response.set({
        'content-security-policy': CONTENT_SECURITY_POLICY,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
        'cross-origin-opener-policy': 'same-origin',
      });
      next();
    });
    // Webhooks and the OAuth callback: before any body parser, because Graph's validation
    // handshake and Pub/Sub's signed pushes must reach threadlink byte for byte.
    app.use('/threadlink', toNodeHandler(tl.handler));

    const api = express.Router();
    // JSON only: a cross-site form cannot send application/json without a CORS preflight,
    // which this API never grants — the page's POSTs are safe from CSRF without tokens.
    api.use(express.json({ limit: '256kb', type: 'application/json' }));
    api.use((request, _response, next) => {
      if (request.method === 'POST' && !request.is('application/json')) {
        next(new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send JSON (content-type: application/json)'));
        return;
      }
      next();
    });
    for (const routes of [
      sessionRoutes,
      recordRoutes,
      messageRoutes,
      composeRoutes,
      matchingRoutes,
      connectionRoutes,
      policyRoutes,
      healthRoutes,
      organizationRoutes,
      demoRoutes,
      eventRoutes,
    ])
      api.use(routes(context));
    api.use(assistRoutes(hooks.draft ?? templateDraft)(context));
    api.use(notFound);
    app.use('/api', api);
    app.use(express.static(PUBLIC_DIRECTORY, { index: 'index.html', fallthrough: true }));
    app.use(notFound);
    app.use(errorHandler(logger));
    server.on('request', app);

    if (demo && config.storage.kind !== 'memory') {
      // The emulators start empty on every run, so a mailbox connected in an earlier run has a
      // grant nobody knows any more. One pull per connection surfaces that as "needs re-auth".
      for (const connection of await tl.connections.list(context.scope)) {
        if (connection.status === 'live' || connection.status === 'backfilling') await tl.connections.sync(connection.id, context.scope);
      }
    }

    return { app, tl, crm, demo, url, server, close };
  } catch (error) {
    await close();
    throw error;
  }
}
