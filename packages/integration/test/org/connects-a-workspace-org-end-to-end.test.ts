// Issue 19, Google end to end: one `tl.org.connect.direct` with a service account authorised by
// domain-wide delegation (google-auth-library's JWT client, the Gmail and Admin Directory clients,
// against the emulator over HTTP) makes 50 mailboxes of one Workspace domain live — 48 people of a
// group and two shared addresses that are user accounts — each with its own watch on the one Pub/Sub
// topic; mail into any of them lands on the right record panels by push; a person deleted from the
// directory stops syncing and their rows are purged by `tl.org.sync()`, a person who joined is
// picked up; an address outside the delegation is reported, not retried; withdrawing the delegation
// turns every mailbox needs_reauth. On the memory store and on PostgreSQL.
import { randomBytes } from 'node:crypto';
import type { MetadataStore, Threadlink } from '@threadlink/core';
import { memoryStore } from '@threadlink/storage-memory';
import { postgresStore } from '@threadlink/storage-postgres';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { CLIENT, CLIENT_RECORD, OUTSIDER, PROJECT_RECORD, SHARED, TENANT, workspaceOrg, type WorkspaceOrg } from './support/workspace-org.js';

const ORG_SIZE = 50;
const ADMIN_SCOPE = { tenantId: TENANT, as: 'admin' } as const;
const databaseUrl = process.env.DATABASE_URL;
const schemas: string[] = [];

afterAll(async () => {
  if (!databaseUrl || schemas.length === 0) return;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  for (const schema of schemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

const backends: Array<{ name: string; available: boolean; make: () => MetadataStore }> = [
  { name: 'memory', available: true, make: () => memoryStore() },
  {
    name: 'postgres',
    available: Boolean(databaseUrl),
    make: () => {
      const schema = `tl_test_orgconf_${randomBytes(5).toString('hex')}`;
      schemas.push(schema);
      return postgresStore({ connectionString: databaseUrl ?? '', schema });
    },
  },
];

async function connectionsOf(tl: Threadlink, orgId: string) {
  const all = await tl.connections.list(ADMIN_SCOPE);
  return all.filter((connection) => connection.orgId === orgId);
}

async function subjectsOf(tl: Threadlink, connectionId: string): Promise<string[]> {
  const subjects: string[] = [];
  for await (const record of tl.connections.export(connectionId, ADMIN_SCOPE)) if (record.kind === 'message') subjects.push(record.data.subject);
  return subjects.sort();
}

describe.each(backends)('a Google Workspace org, end to end ($name)', ({ available, make }) => {
  it.skipIf(!available)(
    'connects 50 mailboxes at once, syncs them by push, follows the directory and withdraws with the delegation',
    async () => {
      const org: WorkspaceOrg = await workspaceOrg(make(), ORG_SIZE);
      try {
        const { google, tl, people } = org;
        // Mail that was there before: back-filled into the mailbox that holds it only.
        await google.deliver({ to: people[0]!, mailbox: people[0]!, from: `BigCo <${CLIENT}>`, subject: 'Before the org connected', text: 'x' });

        const { organization, report } = await org.connect();
        await org.settle();
        expect(report.added).toHaveLength(ORG_SIZE);
        expect(report.forbidden).toEqual([OUTSIDER]);
        const connected = await connectionsOf(tl, organization.id);
        expect(connected).toHaveLength(ORG_SIZE);
        expect(connected.every((connection) => connection.status === 'live')).toBe(true);
        expect(
          connected
            .filter((connection) => connection.mailboxKind === 'shared')
            .map((connection) => connection.accountEmail)
            .sort(),
        ).toEqual([...SHARED].sort());
        // One watch per mailbox, every one on the host's one topic.
        for (const connection of connected) expect(google.watchOf(connection.accountEmail)?.topicName).toBe(google.providerOptions.pubsubTopic);
        const first = connected.find((connection) => connection.accountEmail === people[0]);
        expect(await subjectsOf(tl, first!.id)).toEqual(['Before the org connected']);

        // The outsider is reported on the org's health, not connected, and not asked again by maintenance.
        const health = await tl.org.health({ tenantId: TENANT, userId: 'someone' }, organization.id);
        expect(health.counts).toEqual({ live: ORG_SIZE });
        expect(health.problems).toMatchObject([{ email: OUTSIDER, reason: 'forbidden' }]);
        const refusals = (): number => google.log.entries.filter((entry) => entry.operation === 'oauth.token' && entry.status >= 400).length;
        const refusedBefore = refusals();
        await tl.maintain();
        await org.settle();
        expect(refusals()).toBe(refusedBefore);

        // Mail into a person's mailbox and into a shared one lands on the client's and the project's panels, by push.
        const pushesBefore = org.events.filter((event) => event.name === 'notification.received').length;
        await google.deliver({ to: people[17]!, mailbox: people[17]!, from: `BigCo <${CLIENT}>`, subject: 'Roof quote', text: 'Price?' });
        await google.deliver({ to: SHARED[1]!, mailbox: SHARED[1]!, from: 'site@builder.test', subject: 'PRJ-1042 delivery window', text: 'Tuesday' });
        await google.deliver({ to: SHARED[0]!, mailbox: SHARED[0]!, from: `BigCo <${CLIENT}>`, subject: 'Order for PRJ-1042', text: 'Ten units' });
        await org.settle();
        expect(org.events.filter((event) => event.name === 'notification.received').length - pushesBefore).toBeGreaterThanOrEqual(3);
        const clientPanel = await tl.timeline.forRecord(CLIENT_RECORD, { ...ADMIN_SCOPE, limit: 50 });
        const clientSubjects = clientPanel.threads.flatMap((thread) => thread.messages.map((message) => message.subject)).sort();
        expect(clientSubjects).toEqual(['Before the org connected', 'Order for PRJ-1042', 'Roof quote']);
        const projectPanel = await tl.timeline.forRecord(PROJECT_RECORD, { ...ADMIN_SCOPE, limit: 50 });
        expect(projectPanel.threads.flatMap((thread) => thread.messages.map((message) => message.subject)).sort()).toEqual([
          'Order for PRJ-1042',
          'PRJ-1042 delivery window',
        ]);

        // A person deleted from the directory is offboarded by the next sync; one who joined is connected.
        const leaver = people[17]!;
        const leaverConnection = connected.find((connection) => connection.accountEmail === leaver)!;
        const joiner = `newcomer@${organization.directoryId}`;
        org.leave(leaver);
        org.join(joiner);
        const synced = await tl.org.sync(ADMIN_SCOPE, organization.id);
        await org.settle();
        expect(synced).toMatchObject({ added: [joiner], removed: [leaver], forbidden: [OUTSIDER] });
        await expect(tl.connections.get(leaverConnection.id, ADMIN_SCOPE)).rejects.toMatchObject({ code: 'CONNECTION_NOT_FOUND' });
        const after = await connectionsOf(tl, organization.id);
        expect(after).toHaveLength(ORG_SIZE);
        expect(after.map((connection) => connection.accountEmail)).not.toContain(leaver);
        expect(after.find((connection) => connection.accountEmail === joiner)?.status).toBe('live');
        // Its rows are gone from the panels, and its mailbox's new mail is not synced.
        expect(
          (await tl.timeline.forRecord(CLIENT_RECORD, { ...ADMIN_SCOPE, limit: 50 })).threads
            .flatMap((thread) => thread.messages.map((message) => message.subject))
            .sort(),
        ).toEqual(['Before the org connected', 'Order for PRJ-1042']);
        await google.deliver({ to: leaver, mailbox: leaver, from: `BigCo <${CLIENT}>`, subject: 'After leaving', text: 'x' });
        await google.deliver({ to: joiner, mailbox: joiner, from: `BigCo <${CLIENT}>`, subject: 'Welcome aboard', text: 'x' });
        await org.settle();
        const panel = await tl.timeline.forRecord(CLIENT_RECORD, { ...ADMIN_SCOPE, limit: 50 });
        const panelSubjects = panel.threads.flatMap((thread) => thread.messages.map((message) => message.subject));
        expect(panelSubjects).toContain('Welcome aboard');
        expect(panelSubjects).not.toContain('After leaving');

        // The admin withdraws the delegation: once the issued tokens' hour is over, every mailbox needs reauthorisation.
        google.workspace.revokeDelegation(org.key.client_id);
        google.advanceClock(3_600_000);
        await tl.org.sync(ADMIN_SCOPE, organization.id);
        await org.settle();
        const revoked = await tl.org.health({ tenantId: TENANT, userId: 'someone' }, organization.id);
        expect(revoked.status).toBe('needs_reauth');
        expect(revoked.counts).toEqual({ needs_reauth: ORG_SIZE });
        expect(org.events.filter((event) => event.name === 'connection.needs_reauth')).toHaveLength(ORG_SIZE);
        expect(org.events.filter((event) => event.name === 'org.needs_reauth')).toHaveLength(1);
      } finally {
        await org.close();
      }
    },
    120_000,
  );
});
