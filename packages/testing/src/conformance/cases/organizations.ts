// Organization connections (issue 19): an organization round-trips with its sealed credentials,
// selection and per-mailbox problems; reads and deletes are tenant-scoped; an organization cannot
// move to another tenant; listConnections finds the mailbox connections it owns by `orgId`; a
// revoked grant parks the org and its mailboxes in one pass; the scheduled sync lists orgs due.
import { describe, expect, it } from 'vitest';
import { Organization } from '@threadlink/core/store';
import { expectError, expectNothingWritten, seed, type ConformanceContext } from '../context.js';
import { FIXTURE_EPOCH, makeConnection, uniqueId } from '../fixtures.js';

function makeOrganization(overrides: Partial<Organization> = {}): Organization {
  return Organization.parse({
    id: uniqueId('org'),
    tenantId: uniqueId('tenant'),
    userId: uniqueId('admin'),
    provider: 'outlook',
    directoryId: uniqueId('directory'),
    displayName: 'Contoso',
    status: 'active',
    sealedCredentials: `v1.k1.sealed-${uniqueId('credentials')}`,
    selection: { all: false, groups: ['sales-group'], mailboxes: ['ana@contoso.example'], shared: ['sales@contoso.example'] },
    lastSyncAt: null,
    createdAt: FIXTURE_EPOCH,
    updatedAt: FIXTURE_EPOCH,
    ...overrides,
  });
}

export function organizationCases(t: ConformanceContext): void {
  describe('organizations', () => {
    it('round-trips an organization and replaces it on save', async () => {
      const organization = makeOrganization();
      await t.store.saveOrganization(organization);
      expect(await t.store.getOrganization(organization.tenantId, organization.id)).toEqual(organization);
      const problem = { email: 'bo@contoso.example', mailboxId: 'bo-id', reason: 'forbidden' as const, message: 'ErrorAccessDenied', at: FIXTURE_EPOCH + 5 };
      const updated = { ...organization, status: 'needs_reauth' as const, lastSyncAt: FIXTURE_EPOCH + 5, problems: [problem], updatedAt: FIXTURE_EPOCH + 5 };
      await t.store.saveOrganization(updated);
      expect(await t.store.getOrganization(organization.tenantId, organization.id)).toEqual(updated);
      // A returned object is a copy.
      const read = await t.store.getOrganization(organization.tenantId, organization.id);
      read?.selection.mailboxes.push('mallory@evil.example');
      expect((await t.store.getOrganization(organization.tenantId, organization.id))?.selection).toEqual(organization.selection);
    });

    it('lists a tenant’s organizations oldest first and deletes within the tenant only', async () => {
      const tenantId = uniqueId('tenant');
      const second = makeOrganization({ tenantId, id: `${uniqueId('org')}-b`, createdAt: FIXTURE_EPOCH + 2 });
      const first = makeOrganization({ tenantId, createdAt: FIXTURE_EPOCH + 1 });
      const elsewhere = makeOrganization();
      for (const organization of [second, first, elsewhere]) await t.store.saveOrganization(organization);
      expect((await t.store.listOrganizations(tenantId)).map((organization) => organization.id)).toEqual([first.id, second.id]);
      expect(await t.store.deleteOrganization(elsewhere.tenantId, first.id)).toBe(false);
      expect(await t.store.getOrganization(tenantId, first.id)).not.toBeNull();
      expect(await t.store.deleteOrganization(tenantId, first.id)).toBe(true);
      expect(await t.store.deleteOrganization(tenantId, first.id)).toBe(false);
      expect((await t.store.listOrganizations(tenantId)).map((organization) => organization.id)).toEqual([second.id]);
    });

    it('keeps an organization inside its tenant', async () => {
      const organization = makeOrganization();
      await t.store.saveOrganization(organization);
      const other = uniqueId('tenant');
      expect(await t.store.getOrganization(other, organization.id)).toBeNull();
      expect(await t.store.listOrganizations(other)).toEqual([]);
      await expectError(t.store.saveOrganization({ ...organization, tenantId: other }), 'INVALID_INPUT');
      expect(await t.store.getOrganization(organization.tenantId, organization.id)).toEqual(organization);
      await expectError(t.store.getOrganization('', organization.id), 'INVALID_INPUT');
      await expectError(t.store.listOrganizations(''), 'INVALID_INPUT');
    });

    it('refuses an invalid organization and writes nothing', async () => {
      const organization = makeOrganization();
      await expectNothingWritten(t.raw, async () => {
        await expectError(t.store.saveOrganization({ ...organization, status: 'sleeping' } as never), 'INVALID_INPUT');
        await expectError(t.store.saveOrganization({ ...organization, selection: { everyone: true } } as never), 'INVALID_INPUT');
        await expectError(t.store.saveOrganization({ ...organization, credentials: { kind: 'microsoft-app' } } as never), 'INVALID_INPUT');
      });
    });

    it('finds the mailbox connections an organization owns by orgId', async () => {
      const organization = makeOrganization();
      const { tenantId } = organization;
      const shared = makeConnection({ tenantId, orgId: organization.id, mailboxId: 'sales-id', mailboxKind: 'shared', provider: 'outlook' });
      const person = makeConnection({
        tenantId,
        orgId: organization.id,
        mailboxId: 'ana-id',
        mailboxKind: 'user',
        provider: 'outlook',
        createdAt: FIXTURE_EPOCH + 1,
      });
      const own = makeConnection({ tenantId });
      await t.store.saveOrganization(organization);
      await seed(t.store, shared);
      await seed(t.store, person);
      await seed(t.store, own);
      expect((await t.store.listConnections({ tenantId, orgId: organization.id })).map((connection) => connection.id)).toEqual([shared.id, person.id]);
      expect(await t.store.getConnection(shared.id)).toEqual(shared);
      expect(await t.store.getConnection(own.id)).toEqual(own);
      expect(await t.store.listConnections({ tenantId: uniqueId('tenant'), orgId: organization.id })).toEqual([]);
    });

    it('marks an organization and every mailbox it owns needs_reauth in one pass, once', async () => {
      const organization = makeOrganization();
      const { tenantId } = organization;
      const live = makeConnection({ tenantId, orgId: organization.id, mailboxId: 'a', mailboxKind: 'user', provider: 'outlook', status: 'live' });
      const backfilling = makeConnection({
        tenantId,
        orgId: organization.id,
        mailboxId: 'b',
        mailboxKind: 'shared',
        provider: 'outlook',
        status: 'backfilling',
        createdAt: FIXTURE_EPOCH + 1,
      });
      const parked = makeConnection({
        tenantId,
        orgId: organization.id,
        mailboxId: 'c',
        mailboxKind: 'user',
        provider: 'outlook',
        status: 'needs_reauth',
        createdAt: FIXTURE_EPOCH + 2,
      });
      const own = makeConnection({ tenantId, status: 'live' });
      await t.store.saveOrganization(organization);
      for (const connection of [live, backfilling, parked, own]) await seed(t.store, connection);

      // Another tenant's id changes nothing.
      expect(await t.store.markOrganizationNeedsReauth(uniqueId('tenant'), organization.id, { at: FIXTURE_EPOCH + 9, errorCode: 'AUTH_REVOKED' })).toEqual({
        organizationChanged: false,
        connections: [],
      });
      const first = await t.store.markOrganizationNeedsReauth(tenantId, organization.id, { at: FIXTURE_EPOCH + 10, errorCode: 'AUTH_REVOKED' });
      expect(first.organizationChanged).toBe(true);
      expect(first.connections.map((connection) => [connection.id, connection.status, connection.health.lastErrorCode, connection.health.lastErrorAt])).toEqual(
        [
          [live.id, 'needs_reauth', 'AUTH_REVOKED', FIXTURE_EPOCH + 10],
          [backfilling.id, 'needs_reauth', 'AUTH_REVOKED', FIXTURE_EPOCH + 10],
        ],
      );
      // The rest of the health is kept (merged, not replaced).
      expect(first.connections[0]!.health.lastSyncAt).toBe(live.health.lastSyncAt);
      expect(await t.store.getConnection(live.id)).toEqual(first.connections[0]);
      expect(await t.store.getOrganization(tenantId, organization.id)).toMatchObject({ status: 'needs_reauth', updatedAt: FIXTURE_EPOCH + 10 });
      expect(await t.store.getConnection(parked.id)).toEqual(parked);
      expect(await t.store.getConnection(own.id)).toEqual(own);
      // The second caller (another mailbox's job) finds it done.
      expect(await t.store.markOrganizationNeedsReauth(tenantId, organization.id, { at: FIXTURE_EPOCH + 11, errorCode: 'AUTH_REVOKED' })).toEqual({
        organizationChanged: false,
        connections: [],
      });
      await expectError(t.store.markOrganizationNeedsReauth('', organization.id, { at: 1, errorCode: 'AUTH_REVOKED' }), 'INVALID_INPUT');
    });

    it('lists active organizations of every tenant due for a sync, never-synced first, bounded', async () => {
      const base = FIXTURE_EPOCH + 1_000_000;
      const never = makeOrganization({ lastSyncAt: null });
      const old = makeOrganization({ lastSyncAt: base + 1 });
      const older = makeOrganization({ lastSyncAt: base });
      const fresh = makeOrganization({ lastSyncAt: base + 100 });
      const parked = makeOrganization({ lastSyncAt: base, status: 'needs_reauth' });
      for (const organization of [never, old, older, fresh, parked]) await t.store.saveOrganization(organization);
      const mine = new Set([never, old, older, fresh, parked].map((organization) => organization.id));
      const due = (await t.store.listOrganizationsDue({ syncedBefore: base + 50, limit: 1000 })).filter((organization) => mine.has(organization.id));
      expect(due.map((organization) => organization.id)).toEqual([never.id, older.id, old.id]);
      expect(due[0]).toEqual(never);
      const bounded = await t.store.listOrganizationsDue({ syncedBefore: base + 50, limit: 1 });
      expect(bounded).toHaveLength(1);
      expect(bounded[0]!.lastSyncAt === null || bounded[0]!.lastSyncAt < base + 50).toBe(true);
      await expectError(t.store.listOrganizationsDue({ syncedBefore: base, limit: 0 }), 'INVALID_INPUT');
      await expectError(t.store.listOrganizationsDue({ syncedBefore: base, limit: 1001 }), 'INVALID_INPUT');
    });
  });
}
