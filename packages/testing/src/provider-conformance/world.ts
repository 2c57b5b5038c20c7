// One test's world for the provider conformance suite: the adapter under test inside a real
// createThreadlink, served over HTTP on 127.0.0.1 so the emulator's pushes reach `tl.handler`, on
// the host's store wrapped so every write can be searched for content that must never be stored.
import type { Logger, MailProvider, OrgSyncReport, PublicConnection } from '@threadlink/core';
import type { ProviderId } from '@threadlink/core/provider';
import {
  createThreadlink,
  generateSealingKey,
  THREADLINK_EVENT_NAMES,
  type EngineOptions,
  type MetadataStore,
  type RecordResolver,
  type Threadlink,
} from '@threadlink/core';
import type { RecordedEvent } from '../common/record-events.js';
import { serveWebHandler } from '../common/serve-handler.js';
import type { ConformanceOrganization, ProviderConformanceDriver } from './driver.js';

export const TENANT = 't1';
const USER = 'u1';
/** The connected mailbox of every case. */
export const OWNER = 'ana@owner.test';
/** A client of the CRM: mail from it is matched to the client record. */
export const CLIENT = 'client@bigco.test';
export const CLIENT_RECORD = { type: 'client', id: 'c-bigco' } as const;

const resolver: RecordResolver = {
  async contactsByEmail(_tenantId, addresses) {
    return addresses.includes(CLIENT) ? [{ ...CLIENT_RECORD, label: 'BigCo', emails: [CLIENT] }] : [];
  },
};

export interface WorldOptions {
  engine?: Partial<EngineOptions>;
}

export interface ProviderWorld {
  readonly driver: ProviderConformanceDriver;
  /** The running threadlink instance (a new one after `restart`). */
  readonly tl: Threadlink;
  /** Every event of every instance, in order. */
  readonly events: RecordedEvent[];
  /** Every log record of every instance, as JSON text. */
  readonly logs: string[];
  /** Every argument ever passed to the store, as JSON text: what was (or could have been) written. */
  storeTraffic(): string;
  /**
   * Connects OWNER (or `email`) through the real consent flow, via `tl.connect`; when the driver has
   * `organization`, through the org instead (`tl.org.connect.direct` or `connect.start` + admin consent
   * once, then `tl.org.addMailboxes`).
   */
  connect(email?: string): Promise<PublicConnection>;
  /** Lets every push reach the handler and every queued job finish, until the emulator has no more to push. */
  settle(): Promise<void>;
  /** Stops the running instance (as a process stopping) and starts a fresh one on the same store. */
  restart(): Promise<Threadlink>;
  close(): Promise<void>;
}

/** Records every call's arguments; a Proxy so any store, class-based or not, is wrapped unchanged. */
function recordingStore(store: MetadataStore, traffic: string[]): MetadataStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        try {
          traffic.push(JSON.stringify(args));
        } catch {
          traffic.push(String(args));
        }
        return (value as (...input: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

function capturingLogger(lines: string[]): Logger {
  const write = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push(JSON.stringify({ level, message, fields }));
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** Connects `email` as a mailbox of the world's one organization (connecting the org first); returns the org id. */
async function connectThroughOrg(
  tl: Threadlink,
  organization: ConformanceOrganization,
  provider: ProviderId,
  orgId: string | undefined,
  email: string,
): Promise<string> {
  if (orgId) {
    assertAdded(await tl.org.addMailboxes({ tenantId: TENANT, as: 'admin' }, orgId, { mailboxes: [email] }), email);
    return orgId;
  }
  const selection = { mailboxes: [email] };
  if (organization.adminConsent) return connectByAdminConsent(tl, organization.adminConsent, provider, selection);
  if (!organization.direct) throw new Error('ConformanceOrganization needs direct() or adminConsent()');
  const { adminEmail, credentials } = await organization.direct();
  const connected = await tl.org.connect.direct({
    tenantId: TENANT,
    userId: USER,
    provider,
    directoryId: organization.directoryId,
    adminEmail,
    credentials,
    selection,
  });
  assertAdded(connected.report, email);
  return connected.organization.id;
}

/** `tl.org.connect.start`, the admin's approval, then the admin's browser (with its connect cookie) at the callback. */
async function connectByAdminConsent(
  tl: Threadlink,
  adminConsent: (url: string) => Promise<string>,
  provider: ProviderId,
  selection: { mailboxes: string[] },
): Promise<string> {
  const flow = await tl.org.connect.start({ tenantId: TENANT, userId: USER, provider, selection, returnTo: '/org-connected' });
  const callback = await adminConsent(flow.url);
  const response = await fetch(callback, { redirect: 'manual', headers: { cookie: `${flow.cookie.name}=${flow.cookie.value}` } });
  const orgId = new URL(response.headers.get('location') ?? '', callback).searchParams.get('org');
  if (response.status !== 302 || !orgId) throw new Error(`the admin-consent callback answered ${response.status} (${response.headers.get('location')})`);
  // Its mailboxes are opened in the background; connect() settles (tl.idle) before looking them up.
  return orgId;
}

function assertAdded(report: OrgSyncReport, email: string): void {
  if (!report.added.includes(email.toLowerCase())) throw new Error(`the organization did not connect ${email}: ${JSON.stringify(report)}`);
}

async function connectionOf(tl: Threadlink, email: string): Promise<PublicConnection> {
  const found = (await tl.connections.list({ tenantId: TENANT, as: 'admin' })).filter((connection) => connection.accountEmail === email.toLowerCase());
  if (found.length !== 1) throw new Error(`expected one connection of ${email}, found ${found.length}`);
  return found[0]!;
}

export async function openWorld<Driver extends ProviderConformanceDriver>(
  driver: Driver,
  makeProvider: (driver: Driver) => MailProvider,
  makeStore: () => MetadataStore | Promise<MetadataStore>,
  options: WorldOptions = {},
): Promise<ProviderWorld> {
  const traffic: string[] = [];
  const store = recordingStore(await makeStore(), traffic);
  const events: RecordedEvent[] = [];
  const logs: string[] = [];
  const sealingKeys = [{ id: 'k1', key: generateSealingKey() }];
  let current: Threadlink | undefined;
  const served = await serveWebHandler((request) => (current ? current.handler(request) : Promise.resolve(new Response(null, { status: 503 }))));
  const publicUrl = `${served.url}/threadlink`;

  const startInstance = async (): Promise<Threadlink> => {
    const tl = createThreadlink({
      store,
      providers: [makeProvider(driver)],
      resolver,
      sealingKeys,
      publicUrl,
      logger: capturingLogger(logs),
      // The suite calls maintain() itself; retries wait milliseconds.
      maintenanceIntervalMs: 0,
      retryBackoff: { baseMs: 5, maxMs: 50 },
      ...(options.engine ? { engine: options.engine } : {}),
    });
    // One list across instances, in order.
    for (const name of THREADLINK_EVENT_NAMES) tl.on(name, (payload) => void events.push({ name, payload } as RecordedEvent));
    await tl.start();
    current = tl;
    return tl;
  };

  const first = await startInstance();
  driver.pointPushesAt(first.urls.webhook(driver.provider));
  const instance = (): Threadlink => {
    if (!current) throw new Error('No threadlink instance is running');
    return current;
  };

  let orgId: string | undefined;
  const settle = async (): Promise<void> => {
    // A pull can cause new pushes (a reply's sent copy): repeat until the emulator pushed nothing new.
    for (let round = 0; round < 6; round += 1) {
      const before = driver.pushesSent();
      await driver.flushPushes();
      await instance().idle();
      if (driver.pushesSent() === before) return;
    }
  };

  return {
    driver,
    get tl() {
      return instance();
    },
    events,
    logs,
    storeTraffic: () => traffic.join('\n'),
    async connect(email = OWNER) {
      driver.addMailbox(email);
      const tl = instance();
      if (driver.organization) {
        orgId = await connectThroughOrg(tl, driver.organization, driver.provider, orgId, email);
        await settle();
        return connectionOf(tl, email);
      }
      const { url } = await tl.connect.start({ provider: driver.provider, tenantId: TENANT, userId: USER, loginHint: email });
      const redirect = await driver.consent(url, email);
      const connection = await tl.connect.complete(new URL(redirect), { tenantId: TENANT, userId: USER });
      await settle();
      return connection;
    },
    settle,
    async restart() {
      await instance().stop();
      current = undefined;
      return startInstance();
    },
    async close() {
      await current?.stop();
      current = undefined;
      await served.close();
      await driver.close();
      await store.close();
    },
  };
}
