// An organization's mailbox connection (issue 19) is an ordinary connection with `orgId`: its
// ProviderSession carries the org's grant (credentials unsealed for the call, `mailbox` = the
// connection's mailboxId), a credentials update is re-sealed onto the organization, and the org
// is read from the store once, not once per sync job.
import { Connection, Organization, type OrgCredentials } from '@threadlink/core';
import type { MailboxGrant } from '@threadlink/core/provider';
import { internalsOf } from '@threadlink/core/testing';
import { memoryStore } from '@threadlink/storage-memory';
import { afterEach, describe, expect, it } from 'vitest';
import { countingStore } from './support/counting-store.js';
import { startedHarness } from './support/harness.js';
import { scriptedMailbox } from './support/scripted-provider.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

const SHARED = 'sales@contoso.example';

async function orgMailboxHarness() {
  const mailbox = scriptedMailbox(SHARED, 'outlook');
  const seen: MailboxGrant[] = [];
  const pull = mailbox.provider.pullChanges.bind(mailbox.provider);
  mailbox.provider = {
    ...mailbox.provider,
    async pullChanges(session, cursor, options) {
      if (session.grant) {
        seen.push({ ...session.grant, credentials: session.grant.credentials });
        if (seen.length === 1) await session.grant.updateCredentials({ kind: 'microsoft-app', cache: 'msal-cache-v2' });
      }
      return pull(session, cursor, options);
    },
  };
  const counting = countingStore(memoryStore());
  const { tl, store } = await startedHarness({ store: counting.store }, mailbox);
  stops.push(() => tl.stop());
  const { sealer } = internalsOf(tl);
  const credentials: OrgCredentials = { kind: 'microsoft-app', cache: 'msal-cache-v1' };
  const organization = Organization.parse({
    id: 'org-contoso',
    tenantId: 't1',
    userId: 'admin-1',
    provider: 'outlook',
    directoryId: '8f2c7e0a-0000-4000-8000-000000000001',
    displayName: 'Contoso',
    status: 'active',
    sealedCredentials: sealer.seal(JSON.stringify(credentials), 'org-credentials'),
    selection: { shared: [SHARED] },
    lastSyncAt: null,
    createdAt: 1,
    updatedAt: 1,
  });
  await store.saveOrganization(organization);
  const connection = Connection.parse({
    id: 'conn-sales',
    tenantId: 't1',
    userId: 'admin-1',
    provider: 'outlook',
    accountEmail: SHARED,
    displayName: 'Sales',
    status: 'live',
    sealedTokens: sealer.seal(JSON.stringify({ accessToken: 'app-token-1' }), 'provider-tokens'),
    scopes: ['Mail.ReadBasic.All'],
    subscription: null,
    cursor: String(mailbox.position()),
    backfill: { state: 'done', done: 0, estimatedTotal: 0, resume: null, startedAt: null, finishedAt: null, rate: null },
    health: { lastPushAt: null, lastSyncAt: null, lastFullSyncAt: null, newestChangeAt: null, consecutiveErrors: 0, lastErrorCode: null, lastErrorAt: null },
    shared: true,
    orgId: organization.id,
    mailboxId: 'mailbox-object-id-sales',
    mailboxKind: 'shared',
    createdAt: 1,
    updatedAt: 1,
  });
  await store.saveConnection(connection);
  const push = async (id: string) => {
    mailbox.add({ subject: `order ${id}` });
    const response = await tl.handler(
      new Request('https://crm.example.test/threadlink/webhooks/outlook', { method: 'POST', body: JSON.stringify({ account: SHARED, id }) }),
    );
    expect(response.status).toBe(202);
    await tl.idle();
  };
  return { tl, store, counting, mailbox, seen, push, sealer, organization, connection };
}

describe('an organization mailbox connection', () => {
  it('syncs with the org grant for its mailbox, and re-seals updated credentials onto the organization', async () => {
    const { store, mailbox, seen, push, sealer, organization, connection } = await orgMailboxHarness();
    await push('n-1');
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      orgId: organization.id,
      directoryId: organization.directoryId,
      mailbox: 'mailbox-object-id-sales',
      credentials: { kind: 'microsoft-app', cache: 'msal-cache-v1' },
    });
    expect((await store.listProviderMessageIds(connection.id)).sort()).toEqual(mailbox.ids());

    const saved = await store.getOrganization('t1', organization.id);
    expect(saved?.sealedCredentials).not.toContain('msal-cache');
    expect(JSON.parse(sealer.open(saved!.sealedCredentials, 'org-credentials'))).toEqual({ kind: 'microsoft-app', cache: 'msal-cache-v2' });
    // The next job's grant carries what was saved.
    await push('n-2');
    expect(seen[1]?.credentials).toEqual({ kind: 'microsoft-app', cache: 'msal-cache-v2' });
  });

  it('reads the organization from the store once, not once per sync job', async () => {
    const { counting, seen, push } = await orgMailboxHarness();
    await push('n-1');
    counting.reset();
    for (const id of ['n-2', 'n-3', 'n-4']) await push(id);
    expect(seen).toHaveLength(4);
    // Steady state: no store round trip added per job (the org is cached in process).
    expect(counting.counts().getOrganization ?? 0).toBe(0);
    expect(counting.counts().saveOrganization ?? 0).toBe(0);
  });

  it('fails the job with ORGANIZATION_NOT_FOUND when its organization is gone', async () => {
    const { store, push, organization, seen } = await orgMailboxHarness();
    await store.deleteOrganization('t1', organization.id);
    await push('n-1');
    expect(seen).toEqual([]);
    expect((await store.getConnection('conn-sales'))?.health.lastErrorCode).toBe('ORGANIZATION_NOT_FOUND');
  });
});
