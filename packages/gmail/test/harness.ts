// End-to-end harness: createThreadlink with the real Gmail provider, the memory store and the
// emulator, whose Pub/Sub pushes reach tl.handler over HTTP on 127.0.0.1.
import {
  createThreadlink,
  generateSealingKey,
  type Clock,
  type EngineOptions,
  type MailProvider,
  type PublicConnection,
  type RecordResolver,
  type Threadlink,
  type ThreadlinkEventName,
  type ThreadlinkEvents,
} from '@threadlink/core';
import { memoryStore, type MemoryStore } from '@threadlink/storage-memory';
import { recordEvents, serveWebHandler, type GmailEmulator, type GmailEmulatorOptions, type RecordedEvent } from '@threadlink/testing';
import type { GmailProviderOptions } from '../src/index.js';
import { capturingLogger, providerFor, PUSH_AUDIENCE, recordingProxy, startGoogle, type CapturedLogger, type RecordedExchange } from './support.js';

const resolver: RecordResolver = {
  async contactsByEmail(_tenantId, addresses) {
    return addresses.includes('client@bigco.test') ? [{ type: 'client', id: 'c-bigco', label: 'BigCo', emails: ['client@bigco.test'] }] : [];
  },
  async projectsByReference(_tenantId, references) {
    return references
      .filter((reference) => reference === 'PRJ-1042')
      .map((reference) => ({ type: 'project', id: 'p-1042', label: reference, references: [reference] }));
  },
};

export interface Harness {
  google: GmailEmulator;
  tl: Threadlink;
  store: MemoryStore;
  logger: CapturedLogger;
  events: RecordedEvent[];
  publicUrl: string;
  webhookUrl: string;
  /** Every Gmail API exchange, with the response body as received (only with `recordApi`). */
  apiExchanges: RecordedExchange[];
  /** Connects a mailbox through the real consent flow and waits for the first back-fill. */
  connect(email: string): Promise<PublicConnection>;
  /** Lets every push reach the handler and every queued job finish. */
  settle(): Promise<void>;
  eventsNamed<K extends ThreadlinkEventName>(name: K): ThreadlinkEvents[K][];
  close(): Promise<void>;
}

export interface HarnessOptions {
  emulator?: GmailEmulatorOptions;
  provider?: Partial<GmailProviderOptions>;
  engine?: Partial<EngineOptions>;
  clock?: Clock;
  /** Route the Gmail API through a recording proxy. */
  recordApi?: boolean;
  /** Wraps the Gmail provider (to watch what the engine hands it). */
  wrapProvider?: (provider: MailProvider) => MailProvider;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const google = await startGoogle(options.emulator);
  const proxy = options.recordApi ? await recordingProxy(google.url) : undefined;
  let tl: Threadlink | undefined;
  const served = await serveWebHandler((request) => {
    if (!tl) return Promise.resolve(new Response(null, { status: 503 }));
    return tl.handler(request);
  });
  const publicUrl = `${served.url}/threadlink`;
  const webhookUrl = `${publicUrl}/webhooks/gmail`;
  google.setPushEndpoint({ endpoint: webhookUrl, audience: PUSH_AUDIENCE });
  const store = memoryStore();
  const logger = capturingLogger();
  const instance = createThreadlink({
    store,
    providers: [(options.wrapProvider ?? ((provider) => provider))(providerFor(google, { ...(proxy ? { apiRootUrl: proxy.url } : {}), ...options.provider }))],
    resolver,
    sealingKeys: [{ id: 'k1', key: generateSealingKey() }],
    publicUrl,
    matching: { referencePatterns: [/\bPRJ-\d{4,}\b/] },
    logger,
    maintenanceIntervalMs: 0,
    retryBackoff: { baseMs: 5, maxMs: 20 },
    ...(options.engine ? { engine: options.engine } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  tl = instance;
  const { events } = recordEvents(instance);
  await instance.start();

  const settle = async (): Promise<void> => {
    // A push can enqueue work whose pull makes new history (sent copies) and new pushes: loop until quiet.
    for (let round = 0; round < 5; round += 1) {
      const before = google.pushLog.attempts;
      await google.flushNotifications();
      await instance.idle();
      if (google.pushLog.attempts === before) return;
    }
  };

  return {
    google,
    tl: instance,
    store,
    logger,
    events,
    publicUrl,
    webhookUrl,
    apiExchanges: proxy?.exchanges ?? [],
    async connect(email) {
      google.addMailbox({ email });
      const { url } = await instance.connect.start({ provider: 'gmail', tenantId: 't1', userId: 'u1', loginHint: email });
      const redirect = await google.authorize(url, { email });
      const connection = await instance.connect.complete(new URL(redirect), { tenantId: 't1', userId: 'u1' });
      await settle();
      return connection;
    },
    settle,
    eventsNamed: <K extends ThreadlinkEventName>(name: K) => events.filter((event) => event.name === name).map((event) => event.payload as ThreadlinkEvents[K]),
    async close() {
      await instance.stop();
      await served.close();
      await proxy?.close();
      await google.close();
    },
  };
}
