// Tenant isolation as a property: whatever API call tenant A makes with whatever id of tenant B
// (message, thread, connection) and whatever record, nothing of B is returned and nothing of B
// changes — B's rows, links, connection state and mailboxes (no mail sent from them) stay as
// they were. Tenant B's organization (issue 19) is neither readable nor changeable by A either.
import { isThreadlinkError, Organization, type PublicConnection, type RecordRef } from '@threadlink/core';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../src/random.js';
import { createWorld, type World } from '../src/world.js';

const A = 'tenant-a';
const B = 'tenant-b';
const A_PERSON = 'ari@a-partner.test';
const B_PERSON = 'dora@b-partner.test';
let world: World;
let bConnections: PublicConnection[];
let bMessageIds: string[];
let bThreadIds: string[];
/** Tenant B's organization (issue 19): an org row whose mailbox is B's Outlook connection. */
const bOrgId = 'org-b-contoso';
const records: RecordRef[] = [
  { type: 'client', id: 'c-bigco' },
  { type: 'project', id: 'p-PRJ-1001' },
  { type: 'project', id: 'p-PRJ-1002' },
  { type: 'company', id: 'co-initech' },
];

beforeAll(async () => {
  world = await createWorld({ random: seededRandom(83), storeKind: 'memory', tenantId: A });
  world.google.addMailbox({ email: 'ana@acme.test' });
  world.google.addMailbox({ email: 'ben@globex-crm.test' });
  world.microsoft.addMailbox({ email: 'cleo@contoso.test' });
  await world.connect('gmail', 'ana@acme.test', { tenantId: A });
  const ben = await world.connect('gmail', 'ben@globex-crm.test', { tenantId: B });
  const cleo = await world.connect('outlook', 'cleo@contoso.test', { tenantId: B });
  // The same clients and project numbers in both tenants: ids collide on purpose.
  for (const to of ['ana@acme.test', 'ben@globex-crm.test']) {
    const first = await world.google.deliver({ from: 'buyer@bigco.test', to, subject: 'Change request – PRJ-1001', text: 'x', cc: 'ceo@initech.test' });
    await world.google.deliver({
      from: 'buyer@bigco.test',
      to,
      subject: 'Re: Change request – PRJ-1001',
      text: 'x',
      inReplyTo: first.messageId,
      threadId: first.threadId,
      mailbox: to,
    });
  }
  await world.microsoft.deliver({ from: 'buyer@bigco.test', to: 'cleo@contoso.test', subject: 'Quote PRJ-1002', text: 'x' });
  // People each tenant's users exchange mail with and the CRM does not know (contact suggestions).
  for (const [user, person] of [
    ['ana@acme.test', A_PERSON],
    ['ben@globex-crm.test', B_PERSON],
  ] as const) {
    const asked = await world.google.deliver({ from: person, to: user, subject: `Introduction from ${person}`, text: 'x' });
    await world.google.deliver({
      from: user,
      to: person,
      subject: `Re: Introduction from ${person}`,
      text: 'x',
      inReplyTo: asked.messageId,
      threadId: asked.threadId,
      mailbox: user,
    });
  }
  await world.settle();
  bConnections = [ben, cleo];
  await world.backend.primary.saveOrganization(
    Organization.parse({
      id: bOrgId,
      tenantId: B,
      userId: 'admin-b',
      provider: 'outlook',
      directoryId: 'contoso-directory-b',
      displayName: 'Contoso B',
      status: 'active',
      sealedCredentials: 'tl1.k1.sealed-org-credentials-of-b',
      selection: { mailboxes: ['cleo@contoso.test'] },
      lastSyncAt: null,
      createdAt: 1,
      updatedAt: 1,
    }),
  );
  bMessageIds = [];
  bThreadIds = [];
  for (const connection of bConnections) {
    for (const providerId of await world.backend.primary.listProviderMessageIds(connection.id)) {
      const message = (await world.backend.primary.getMessageByProviderId(connection.id, providerId))!;
      bMessageIds.push(message.id);
      bThreadIds.push(message.threadId);
    }
  }
  expect(bMessageIds.length).toBeGreaterThanOrEqual(3);
});
afterAll(() => world.close());

async function snapshotOfB(): Promise<string> {
  const store = world.backend.primary;
  const state: unknown[] = [];
  for (const connection of bConnections) {
    const { updatedAt: _updated, health: _health, ...stable } = (await store.getConnection(connection.id))!;
    state.push(stable);
    for (const providerId of (await store.listProviderMessageIds(connection.id)).sort())
      state.push(await store.getMessageByProviderId(connection.id, providerId));
  }
  state.push(await store.getOrganization(B, bOrgId));
  state.push(world.google.sentRaw('ben@globex-crm.test').length, world.microsoft.sent('cleo@contoso.test').length);
  return JSON.stringify(state);
}

type Operation = (input: { messageId: string; threadId: string; connectionId: string; record: RecordRef }) => Promise<unknown>;

const tl = () => world.any().tl;
const scope = { tenantId: A, as: 'admin' } as const;
const operations: Record<string, Operation> = {
  'timeline.forRecord': ({ record }) => tl().timeline.forRecord(record, { ...scope, limit: 200 }),
  'timeline.forRecord (whole threads)': ({ record }) => tl().timeline.forRecord(record, { ...scope, wholeThreads: true }),
  'timeline.thread': ({ threadId }) => tl().timeline.thread(threadId, scope),
  'messages.get': ({ messageId }) => tl().messages.get(messageId, scope),
  'messages.body': ({ messageId }) => tl().messages.body(messageId, { ...scope, format: 'html' }),
  'messages.reply': ({ messageId }) => tl().messages.reply(messageId, { ...scope, text: 'from tenant A' }),
  'messages.draftContext': ({ messageId }) => tl().messages.draftContext(messageId, scope),
  'messages.attachment': ({ messageId }) => tl().messages.attachment(messageId, '1', scope),
  'messages.send': ({ connectionId }) => tl().messages.send({ ...scope, connectionId, to: [{ address: 'x@a.test' }], text: 'from tenant A' }),
  'messages.forward': ({ messageId }) => tl().messages.forward(messageId, { ...scope, to: [{ address: 'x@a.test' }], text: 'from tenant A' }),
  'contacts.suggest': () => tl().contacts.suggest(scope, { limit: 100 }),
  'matching.explain': ({ messageId }) => tl().matching.explain(messageId, scope),
  'matching.link': ({ messageId, record }) => tl().matching.link(messageId, record, scope),
  'matching.unlink': ({ messageId, record }) => tl().matching.unlink(messageId, record, scope),
  'matching.reset': ({ messageId, record }) => tl().matching.reset(messageId, record, scope),
  'matching.rematch': ({ record }) =>
    tl().matching.rematch({ ...record, emails: ['buyer@bigco.test'], references: ['PRJ-1001', 'PRJ-1002'], domains: ['initech.test'] }, scope),
  'connections.get': ({ connectionId }) => tl().connections.get(connectionId, scope),
  'connections.list': () => tl().connections.list(scope),
  'connections.sync': ({ connectionId }) => tl().connections.sync(connectionId, scope),
  'connections.resync': ({ connectionId }) => tl().connections.resync(connectionId, scope),
  'connections.setShared': ({ connectionId }) => tl().connections.setShared(connectionId, true, scope),
  'connections.export': async ({ connectionId }) => {
    const records: unknown[] = [];
    for await (const record of tl().connections.export(connectionId, scope)) records.push(record);
    return records;
  },
  'connections.disconnect': ({ connectionId }) => tl().connections.disconnect(connectionId, { tenantId: A, as: 'admin', purge: true }),
  health: ({ connectionId }) => tl().health(connectionId, scope),
  'health.all': () => tl().health.all(scope),
  'org.get': () => tl().org.get(scope, bOrgId),
  'org.list': () => tl().org.list(scope),
  'org.health': () => tl().org.health(scope, bOrgId),
  'org.sync': () => tl().org.sync(scope, bOrgId),
  'org.addMailboxes': () => tl().org.addMailboxes(scope, bOrgId, { mailboxes: ['ana@acme.test'] }),
  'org.removeMailbox': () => tl().org.removeMailbox(scope, bOrgId, 'cleo@contoso.test'),
  'org.assignMailbox': () => tl().org.assignMailbox(scope, bOrgId, 'cleo@contoso.test', 'a-user'),
  'org.disconnect': () => tl().org.disconnect(scope, bOrgId),
};

describe('tenant isolation', () => {
  it('no API call of tenant A returns or changes anything of tenant B', async () => {
    const before = await snapshotOfB();
    const bMarkers = [
      bOrgId,
      'contoso-directory-b',
      ...bMessageIds,
      ...bThreadIds,
      ...bConnections.map((connection) => connection.id),
      'ben@globex-crm.test',
      'cleo@contoso.test',
      B_PERSON,
    ];
    const calls = { refused: 0, answered: 0 };
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(operations)), fc.nat(), fc.constantFrom(...records), async (name, index, record) => {
        const input = {
          messageId: bMessageIds[index % bMessageIds.length]!,
          threadId: bThreadIds[index % bThreadIds.length]!,
          connectionId: bConnections[index % bConnections.length]!.id,
          record,
        };
        let result: unknown;
        try {
          result = await operations[name]!(input);
          calls.answered += 1;
        } catch (error) {
          calls.refused += 1;
          expect(isThreadlinkError(error) ? error.code : String(error)).toMatch(/^(NOT_FOUND|CONNECTION_NOT_FOUND|ORGANIZATION_NOT_FOUND)$/);
        }
        const text = JSON.stringify(result ?? null);
        for (const marker of bMarkers) expect(text).not.toContain(marker);
        await world.settle();
        expect(await snapshotOfB()).toBe(before);
      }),
      { numRuns: 80, seed: 4242 },
    );
    expect(calls.refused).toBeGreaterThan(0);
    expect(calls.answered).toBeGreaterThan(0);
    // Positive control: tenant A's own timeline is not empty, so "empty for B" means something.
    const own = await tl().timeline.forRecord({ type: 'client', id: 'c-bigco' }, scope);
    expect(own.threads.length).toBeGreaterThan(0);
  });

  it('contacts.suggest: each tenant sees the people its own users exchange mail with, never the other’s', async () => {
    const suggested = async (tenantId: string) => (await tl().contacts.suggest({ tenantId, as: 'admin' }, { limit: 100 })).map((person) => person.address);
    const ofA = await suggested(A);
    const ofB = await suggested(B);
    expect(ofA).toContain(A_PERSON);
    expect(ofA).not.toContain(B_PERSON);
    expect(ofB).toContain(B_PERSON);
    expect(ofB).not.toContain(A_PERSON);
    // A user of B sees B's people only, whoever else shares the address book.
    expect(JSON.stringify(await tl().contacts.suggest({ tenantId: B, userId: 'user-of-b' }))).not.toContain(A_PERSON);
  });
});
