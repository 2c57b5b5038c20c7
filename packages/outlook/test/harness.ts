// End-to-end harness: createThreadlink + memoryStore + outlookProvider, served on 127.0.0.1 so
// the Graph emulator delivers validation handshakes, notifications and lifecycle events to the
// facade's real HTTP handler.
import {
  createThreadlink,
  generateSealingKey,
  type EngineOptions,
  type PublicConnection,
  type RecordResolver,
  type Threadlink,
  type ThreadlinkEvents,
} from '@threadlink/core';
import { memoryStore, type MemoryStore } from '@threadlink/storage-memory';
import { recordEvents, serveWebHandler, startGraphEmulator, type GraphEmulator, type GraphEmulatorOptions, type RecordedEvent } from '@threadlink/testing';
import { outlookProvider, type OutlookProviderOptions } from '../src/index.js';
import { capturingLogger, type LogRecord } from './support.js';

export const resolver: RecordResolver = {
  async contactsByEmail(_tenantId, addresses) {
    return addresses.includes('client@acme.com') ? [{ type: 'client', id: 'c-acme', label: 'Acme', emails: ['client@acme.com'] }] : [];
  },
  async projectsByReference(_tenantId, references) {
    return references
      .filter((reference) => reference === 'PRJ-1042')
      .map((reference) => ({ type: 'project', id: 'p-1042', label: reference, references: [reference] }));
  },
};

export interface Facade {
  ms: GraphEmulator;
  tl: Threadlink;
  store: MemoryStore;
  events: RecordedEvent[];
  logs: LogRecord[];
  publicUrl: string;
  connect(email: string): Promise<PublicConnection>;
  /** Lets every notification reach the handler and every queued job finish. */
  settle(): Promise<void>;
  eventsNamed<K extends keyof ThreadlinkEvents>(name: K): Array<ThreadlinkEvents[K]>;
  close(): Promise<void>;
}

export async function startFacade(
  options: { provider?: Partial<OutlookProviderOptions>; emulator?: GraphEmulatorOptions; engine?: Partial<EngineOptions> } = {},
): Promise<Facade> {
  const ms = await startGraphEmulator(options.emulator ?? {});
  const store = memoryStore();
  const logs: LogRecord[] = [];
  let handler: ((request: Request) => Promise<Response>) | undefined;
  const served = await serveWebHandler((request) => (handler ? handler(request) : Promise.resolve(new Response(null, { status: 503 }))));
  const publicUrl = `${served.url}/threadlink`;
  const tl = createThreadlink({
    store,
    providers: [outlookProvider({ ...ms.providerOptions, ...(options.provider ?? {}) })],
    resolver,
    sealingKeys: [{ id: 'k1', key: generateSealingKey() }],
    publicUrl,
    matching: { referencePatterns: [/\bPRJ-\d{4,}\b/] },
    logger: capturingLogger(logs),
    maintenanceIntervalMs: 0,
    retryBackoff: { baseMs: 5, maxMs: 50 },
    ...(options.engine ? { engine: options.engine } : {}),
  });
  handler = tl.handler;
  const { events } = recordEvents(tl);
  await tl.start();

  const settle = async (): Promise<void> => {
    for (let round = 0; round < 3; round += 1) {
      await ms.flushNotifications();
      await tl.idle();
    }
  };

  return {
    ms,
    tl,
    store,
    events,
    logs,
    publicUrl,
    async connect(email) {
      try {
        ms.addMailbox({ email });
      } catch {
        // Already there.
      }
      const { url } = await tl.connect.start({ provider: 'outlook', tenantId: 't1', userId: 'u1', loginHint: email });
      const redirect = await ms.authorize(url, { email });
      const connection = await tl.connect.complete(new URL(redirect), { tenantId: 't1', userId: 'u1' });
      await settle();
      return connection;
    },
    settle,
    eventsNamed: <K extends keyof ThreadlinkEvents>(name: K) =>
      events.filter((event) => event.name === name).map((event) => event.payload as ThreadlinkEvents[K]),
    async close() {
      await tl.stop();
      await served.close();
      await ms.close();
    },
  };
}
