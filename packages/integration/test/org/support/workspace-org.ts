// A Google Workspace customer of a CRM, end to end: the Gmail + Pub/Sub + Directory emulator with a
// domain of people in a team group, two "shared" addresses that are user accounts (sales@,
// projects@ — the gmail README's definition), a service account the admin authorised domain-wide,
// and a real createThreadlink serving its handler on 127.0.0.1 so Pub/Sub pushes reach it.
import { createThreadlink, generateSealingKey, type MetadataStore, type RecordResolver, type Threadlink, type ThreadlinkEvents } from '@threadlink/core';
import { gmailAdminConsoleScopes, gmailProvider } from '@threadlink/gmail';
import { serveWebHandler, startGmailEmulator, type GmailEmulator, type ServedHandler, type ServiceAccountKeyFile } from '@threadlink/testing';

const DOMAIN = 'acme.test';
const ADMIN = `admin@${DOMAIN}`;
const TEAM = `team@${DOMAIN}`;
export const SHARED = [`sales@${DOMAIN}`, `projects@${DOMAIN}`];
/** Outside the Workspace domain: the service account cannot act as it (Google: invalid_grant). */
export const OUTSIDER = 'guest@partner.test';
export const CLIENT = 'client@bigco.test';
export const CLIENT_RECORD = { type: 'client', id: 'c-bigco' } as const;
export const PROJECT_RECORD = { type: 'project', id: 'p-1042' } as const;
export const TENANT = 't1';
const PUSH_AUDIENCE = 'https://crm.example.test/threadlink/webhooks/gmail';

const person = (index: number): string => `user${String(index).padStart(3, '0')}@${DOMAIN}`;

const resolver: RecordResolver = {
  async contactsByEmail(_tenantId, addresses) {
    return addresses.includes(CLIENT) ? [{ ...CLIENT_RECORD, label: 'BigCo', emails: [CLIENT] }] : [];
  },
  async projectsByReference(_tenantId, references) {
    return references.includes('PRJ-1042') ? [{ ...PROJECT_RECORD, label: 'Warehouse roof' }] : [];
  },
};

export interface WorkspaceOrg {
  google: GmailEmulator;
  tl: Threadlink;
  key: ServiceAccountKeyFile;
  /** The people in the team group (not the shared addresses). */
  people: string[];
  events: Array<{ name: string; payload: unknown }>;
  /** Adds a person to the domain and the team group. */
  join(email: string): void;
  /** Deletes a person from the domain (Google drops them from their groups). */
  leave(email: string): void;
  /** Connects the org once: the team group, the shared addresses and the outsider. */
  connect(): ReturnType<Threadlink['org']['connect']['direct']>;
  /** Delivers every pending push and waits for threadlink to finish what they started. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export async function workspaceOrg(store: MetadataStore, size: number): Promise<WorkspaceOrg> {
  const google = await startGmailEmulator({ notificationIntervalMs: 20, pushAudience: PUSH_AUDIENCE, workspaceDomain: DOMAIN });
  const { workspace } = google;
  workspace.addUser({ email: ADMIN, name: 'Ada Admin', isAdmin: true });
  const people = Array.from({ length: size - SHARED.length }, (_, index) => person(index + 1));
  for (const email of [...people, ...SHARED]) workspace.addUser({ email });
  google.addMailbox({ email: CLIENT });
  google.addMailbox({ email: OUTSIDER });
  const members = new Set(people);
  const writeGroup = (): void => void workspace.addGroup({ email: TEAM, members: [...members].map((email) => ({ email, type: 'USER' as const })) });
  writeGroup();
  const key = await workspace.createServiceAccount('threadlink-sync');
  workspace.authorizeDelegation(key.client_id, gmailAdminConsoleScopes('full'));

  let current: Threadlink | undefined;
  const served: ServedHandler = await serveWebHandler((request) => (current ? current.handler(request) : Promise.resolve(new Response(null, { status: 503 }))));
  const tl = createThreadlink({
    store,
    providers: [gmailProvider({ ...google.providerOptions, retry: { baseMs: 5, maxMs: 50 } })],
    resolver,
    matching: { referencePatterns: [/\bPRJ-\d{4,}\b/] },
    sealingKeys: [{ id: 'k1', key: generateSealingKey() }],
    publicUrl: `${served.url}/threadlink`,
    maintenanceIntervalMs: 0,
    retryBackoff: { baseMs: 5, maxMs: 50 },
  });
  const events: WorkspaceOrg['events'] = [];
  for (const name of ['org.mailbox.added', 'org.mailbox.removed', 'org.needs_reauth', 'connection.needs_reauth', 'notification.received'] as const) {
    tl.on(name, (payload: ThreadlinkEvents[typeof name]) => void events.push({ name, payload }));
  }
  await tl.start();
  current = tl;
  google.setPushEndpoint({ endpoint: tl.urls.webhook('gmail'), audience: PUSH_AUDIENCE });

  const settle = async (): Promise<void> => {
    for (let round = 0; round < 6; round += 1) {
      const before = google.pushLog.attempts;
      await google.flushNotifications();
      await tl.idle();
      if (google.pushLog.attempts === before) return;
    }
  };

  return {
    google,
    tl,
    key,
    people,
    events,
    join(email) {
      workspace.addUser({ email });
      members.add(email);
      writeGroup();
    },
    leave(email) {
      workspace.removeUser(email);
      members.delete(email);
      writeGroup();
    },
    connect: () =>
      tl.org.connect.direct({
        tenantId: TENANT,
        userId: 'admin-1',
        provider: 'gmail',
        directoryId: DOMAIN,
        adminEmail: ADMIN,
        credentials: key,
        selection: { groups: [TEAM], shared: SHARED, mailboxes: [OUTSIDER] },
      }),
    settle,
    async close() {
      await tl.stop();
      current = undefined;
      await served.close();
      await google.close();
      await store.close();
    },
  };
}
