// Organization connections (issue 19): an organization round-trips with its sealed credentials,
// selection and per-mailbox problems; reads and deletes are tenant-scoped; an organization cannot
// move to another tenant; listConnections finds the mailbox connections it owns by `orgId`.
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
  });
}
