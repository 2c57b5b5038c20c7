// memoryStore(): the whole MetadataStore contract in process memory, keyed and indexed the
// way a database would be, for tests, prototypes and the single-process demo.
import {
  applyConnectionPatch,
  checkClaimRequest,
  checkLeaseRequest,
  compareIds,
  PUSH_TAKING_STATUSES,
  connectionIdList,
  keyNamesConnection,
  keysetPage,
  parseIndexLookup,
  parseLabelDirectory,
  parseParticipantActivityQuery,
  parseLinksToAdd,
  parseManualLink,
  parsePolicyToSave,
  parsePurgeIds,
  parseStoredPolicy,
  parseRecordRef,
  parseHealthPatch,
  parseStoredConnection,
  parseStoredOrganization,
  parseDueLimit as dueLimit,
  recordKey,
  requireTenant,
  stringList,
  ThreadlinkError,
  type Connection,
  type ConnectionPatch,
  type ConnectionQuery,
  type ExportRecord,
  type MessageIndexQuery,
  type MetadataStore,
  type PageRequest,
  type PurgeReport,
  type ConnectionPolicy,
  type MessagePurge,
  type PushClaim,
  type SyncLeaseRequest,
  type SyncLeaseResult,
  type StoredMessage,
  type StoredPolicies,
  type SyncContext,
  type TenantPolicy,
} from '@threadlink/core/store';
import { commitSync, planSync, subscriptionIds, writeConnection } from './apply-sync.js';
import { acquireLease, claimOnce, releaseLease, renewLease } from './coordination.js';
import { indexGet, indexRemove, key } from './indexes.js';
import { copy, createTables, deleteLink, deleteMessage, dumpTables, linksOf, oldestFirst, policyKey, setLink, storedMessage, type Tables } from './tables.js';
import { participantActivity } from './participant-activity.js';
import { timeline, visibleConnections } from './timeline.js';

export interface MemoryStoreOptions {
  /** Shown as `store.name` (default "memory"). */
  name?: string;
}

export interface MemoryStoreRaw {
  /** Every stored row per table, indexes included (copies). */
  dump(): Promise<Record<string, unknown[]>>;
}

export interface MemoryStore extends MetadataStore {
  /** Physical access for conformance checks: what is really held, not what the API answers. */
  readonly raw: MemoryStoreRaw;
}

const rawAccess = new WeakMap<object, MemoryStoreRaw>();
const TAKES_PUSHES = new Set<string>(PUSH_TAKING_STATUSES);

/** The raw accessor of a memory store, in the shape runStoreConformance's `raw` option takes. */
export function memoryStoreRaw(store: MetadataStore): MemoryStoreRaw {
  const raw = rawAccess.get(store);
  if (!raw) throw new ThreadlinkError('CONFIG_INVALID', 'Not a memory store');
  return raw;
}

function matchesQuery(connection: Connection, query: ConnectionQuery): boolean {
  if (query.tenantId !== undefined && connection.tenantId !== query.tenantId) return false;
  if (query.userId !== undefined && connection.userId !== query.userId) return false;
  if (query.provider !== undefined && connection.provider !== query.provider) return false;
  if (query.accountEmail !== undefined && connection.accountEmail !== query.accountEmail.trim().toLowerCase()) return false;
  if (query.accountEmails !== undefined && !query.accountEmails.some((address) => connection.accountEmail === address.trim().toLowerCase())) return false;
  if (query.status !== undefined && !query.status.includes(connection.status)) return false;
  if (query.orgId !== undefined && connection.orgId !== query.orgId) return false;
  if (query.subscriptionId !== undefined && !subscriptionIds(connection).includes(query.subscriptionId)) return false;
  if (query.subscriptionIds !== undefined && !subscriptionIds(connection).some((id) => query.subscriptionIds!.includes(id))) return false;
  return true;
}

export function memoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const tables: Tables = createTables();
  const claimSweep = { threshold: 1024 };

  const tenantMessage = (tenantId: string, messageId: string) => {
    const message = tables.messages.get(messageId);
    return message && message.tenantId === tenantId ? message : undefined;
  };

  const raw: MemoryStoreRaw = { dump: async () => dumpTables(tables) };

  function policiesOf(tenantId: string, connectionId: string | undefined): StoredPolicies {
    const tenant = tables.policies.get(policyKey(tenantId, null));
    const own = connectionId === undefined ? undefined : tables.policies.get(policyKey(tenantId, connectionId));
    return {
      tenant: tenant ? (parseStoredPolicy('tenant', copy(tenant.policy)) as TenantPolicy) : null,
      connection: own ? (parseStoredPolicy('connection', copy(own.policy)) as ConnectionPolicy) : null,
    };
  }

  /** A sync lease and, when taken, the connection with its policies (acquireSyncLeases' answer for one request). */
  function takeSyncLease(request: SyncLeaseRequest): SyncLeaseResult {
    const acquired = acquireLease(tables, request);
    return { acquired, context: acquired ? syncContextOf(request.connectionId) : null };
  }

  function syncContextOf(connectionId: string): SyncContext | null {
    const connection = tables.connections.get(connectionId);
    if (!connection) return null;
    return { connection: copy(connection), policies: policiesOf(connection.tenantId, connection.id) };
  }

  function threadMessages(tenantId: string, threadIds: string[], connectionIds: string[] | null): StoredMessage[] {
    const visible = visibleConnections(connectionIds);
    const ids = new Set<string>();
    for (const threadId of threadIds) for (const id of indexGet(tables.indexes.byThread, key(tenantId, threadId))) ids.add(id);
    return oldestFirst(tables, ids)
      .filter((message) => visible(message.connectionId))
      .map((message) => storedMessage(tables, message));
  }

  /** Synchronous from the claim to the health merge: nothing interleaves, as one transaction. */
  function claimPushNow(claim: PushClaim): boolean {
    const parsed = claim.lastPushAt === null ? null : parseHealthPatch({ lastPushAt: claim.lastPushAt });
    if (!claimOnce(tables, claim.key, claim.expiresAt, claim.now, claimSweep)) return false;
    const existing = tables.connections.get(claim.connectionId);
    if (parsed && existing) writeConnection(tables, applyConnectionPatch(existing, { health: parsed }));
    return true;
  }

  const store: MemoryStore = {
    name: options.name ?? 'memory',
    raw,

    async init() {},
    async close() {},

    async saveConnection(input) {
      const connection = parseStoredConnection(input);
      const existing = tables.connections.get(connection.id);
      if (existing && existing.tenantId !== connection.tenantId) {
        throw new ThreadlinkError('INVALID_INPUT', 'A connection cannot move to another tenant', { details: { connectionId: connection.id } });
      }
      writeConnection(tables, connection);
    },

    async patchConnection(connectionId: string, patch: ConnectionPatch) {
      const existing = tables.connections.get(connectionId);
      if (!existing) return null;
      const next = applyConnectionPatch(existing, patch);
      writeConnection(tables, next);
      return copy(next);
    },

    async getConnection(connectionId) {
      const connection = tables.connections.get(connectionId);
      return connection ? copy(connection) : null;
    },

    async listConnections(query) {
      // Webhooks look connections up by subscription id on every push: answer from the index.
      const wanted = query.subscriptionId !== undefined ? [query.subscriptionId] : query.subscriptionIds;
      const candidates =
        wanted === undefined
          ? tables.connections.values()
          : new Set(
              [...new Set(wanted)].flatMap((subscriptionId) =>
                [...indexGet(tables.indexes.bySubscription, subscriptionId)].flatMap((id) => tables.connections.get(id) ?? []),
              ),
            );
      return [...candidates]
        .filter((connection) => matchesQuery(connection, query))
        .sort((left, right) => left.createdAt - right.createdAt || compareIds(left.id, right.id))
        .map(copy);
    },

    async saveOrganization(input) {
      const organization = parseStoredOrganization(input);
      const existing = tables.organizations.get(organization.id);
      if (existing && existing.tenantId !== organization.tenantId) {
        throw new ThreadlinkError('INVALID_INPUT', 'An organization cannot move to another tenant', { details: { orgId: organization.id } });
      }
      tables.organizations.set(organization.id, copy(organization));
    },

    async getOrganization(tenantId, orgId) {
      requireTenant(tenantId);
      const organization = tables.organizations.get(orgId);
      return organization && organization.tenantId === tenantId ? copy(organization) : null;
    },

    async listOrganizations(tenantId) {
      requireTenant(tenantId);
      return [...tables.organizations.values()]
        .filter((organization) => organization.tenantId === tenantId)
        .sort((left, right) => left.createdAt - right.createdAt || compareIds(left.id, right.id))
        .map(copy);
    },

    async deleteOrganization(tenantId, orgId) {
      requireTenant(tenantId);
      const organization = tables.organizations.get(orgId);
      if (!organization || organization.tenantId !== tenantId) return false;
      return tables.organizations.delete(orgId);
    },

    async markOrganizationNeedsReauth(tenantId, orgId, input) {
      requireTenant(tenantId);
      const organization = tables.organizations.get(orgId);
      if (!organization || organization.tenantId !== tenantId) return { organizationChanged: false, connections: [] };
      const organizationChanged = organization.status !== 'needs_reauth';
      if (organizationChanged) tables.organizations.set(orgId, { ...organization, status: 'needs_reauth', updatedAt: input.at });
      const changed: Connection[] = [];
      for (const connection of [...tables.connections.values()].sort((left, right) => left.createdAt - right.createdAt || compareIds(left.id, right.id))) {
        if (connection.orgId !== orgId || connection.tenantId !== tenantId) continue;
        if (connection.status === 'needs_reauth' || connection.status === 'disconnected') continue;
        const next = applyConnectionPatch(connection, {
          status: 'needs_reauth',
          health: { lastErrorCode: input.errorCode, lastErrorAt: input.at },
          updatedAt: input.at,
        });
        writeConnection(tables, next);
        changed.push(copy(next));
      }
      return { organizationChanged, connections: changed };
    },

    async listOrganizationsDue(query) {
      const limit = dueLimit(query.limit);
      return [...tables.organizations.values()]
        .filter((organization) => organization.status === 'active' && (organization.lastSyncAt ?? -1) < query.syncedBefore)
        .sort((left, right) => (left.lastSyncAt ?? -1) - (right.lastSyncAt ?? -1) || compareIds(left.id, right.id))
        .slice(0, limit)
        .map(copy);
    },

    async applySync(connectionId, batch) {
      const plan = planSync(tables, connectionId, batch, (connection, threadIds) => threadMessages(connection.tenantId, threadIds, [connection.id]));
      const result = commitSync(tables, plan);
      // Nothing awaited since the plan: the release commits with the batch, as in one transaction.
      if (batch.releaseLease) releaseLease(tables, batch.releaseLease.key, batch.releaseLease.owner);
      return result;
    },

    async listProviderMessageIds(connectionId) {
      const ids = indexGet(tables.indexes.byConnection, connectionId);
      return [...ids].flatMap((id) => tables.messages.get(id)?.providerMessageId ?? []).sort(compareIds);
    },

    async listProviderMessageLabels(connectionId) {
      const ids = indexGet(tables.indexes.byConnection, connectionId);
      return [...ids]
        .flatMap((id) => {
          const message = tables.messages.get(id);
          return message ? [{ providerMessageId: message.providerMessageId, labels: [...message.labels] }] : [];
        })
        .sort((left, right) => compareIds(left.providerMessageId, right.providerMessageId));
    },

    async getMessages(tenantId, messageIds) {
      requireTenant(tenantId);
      return stringList(messageIds, 'messageIds').flatMap((id) => {
        const message = tenantMessage(tenantId, id);
        return message ? [storedMessage(tables, message)] : [];
      });
    },

    async getMessageByProviderId(connectionId, providerMessageId) {
      const id = tables.indexes.byProviderId.get(key(connectionId, providerMessageId));
      const message = id === undefined ? undefined : tables.messages.get(id);
      return message ? storedMessage(tables, message) : null;
    },

    async listThreads(tenantId, threadIds, connectionIds) {
      requireTenant(tenantId);
      return threadMessages(tenantId, stringList(threadIds, 'threadIds'), connectionIdList(connectionIds));
    },

    async findMessageIds(tenantId, query: MessageIndexQuery, page: PageRequest) {
      const lookup = parseIndexLookup(tenantId, query, page);
      const { indexes } = tables;
      const hits = new Set<string>();
      const collect = (index: Map<string, Set<string>>, values: string[]): void => {
        for (const value of values) for (const id of indexGet(index, key(tenantId, value))) hits.add(id);
      };
      collect(indexes.byAddress, lookup.addresses);
      collect(indexes.byDomain, lookup.domains);
      collect(indexes.byReference, lookup.referenceTokens);
      collect(indexes.byThread, lookup.threadIds);
      const { after } = lookup;
      const ordered = [...hits].filter((id) => after === null || compareIds(id, after) > 0).sort(compareIds);
      const { items: ids, next } = keysetPage(ordered, lookup.limit, (id) => [id]);
      return { ids, next };
    },

    async participantActivity(query) {
      return participantActivity(tables, parseParticipantActivityQuery(query));
    },

    async addLinks(tenantId, links) {
      requireTenant(tenantId);
      let inserted = 0;
      for (const link of parseLinksToAdd(links)) {
        const message = tenantMessage(tenantId, link.messageId);
        if (!message || tables.links.get(link.messageId)?.has(recordKey(link.record))) continue;
        setLink(tables, tenantId, link);
        inserted += 1;
      }
      return inserted;
    },

    async saveManualLink(tenantId, input) {
      requireTenant(tenantId);
      const link = parseManualLink(input);
      if (!tenantMessage(tenantId, link.messageId)) throw new ThreadlinkError('NOT_FOUND', 'No such message', { details: { messageId: link.messageId } });
      setLink(tables, tenantId, link);
    },

    async removeLink(tenantId, messageId, recordInput) {
      requireTenant(tenantId);
      const record = parseRecordRef(recordInput);
      if (!tenantMessage(tenantId, messageId)) return false;
      const link = tables.links.get(messageId)?.get(recordKey(record));
      if (!link?.manual) return false;
      deleteLink(tables, tenantId, link);
      return true;
    },

    async timeline(query) {
      return timeline(tables, query);
    },

    async saveLabels(connectionId, input) {
      const labels = parseLabelDirectory(input);
      if (!tables.connections.has(connectionId)) throw new ThreadlinkError('CONNECTION_NOT_FOUND', 'No such connection', { details: { connectionId } });
      tables.labels.set(connectionId, labels);
    },

    async listLabels(tenantId, connectionIds) {
      requireTenant(tenantId);
      return [...new Set(stringList(connectionIds, 'connectionIds'))]
        .filter((connectionId) => tables.connections.get(connectionId)?.tenantId === tenantId)
        .sort(compareIds)
        .flatMap((connectionId) => (tables.labels.get(connectionId) ?? []).map((label) => copy({ connectionId, ...label })));
    },

    async acquireLease(request) {
      return acquireLease(tables, request);
    },
    async renewLease(request) {
      return renewLease(tables, request);
    },
    async releaseLease(leaseKey, owner) {
      releaseLease(tables, leaseKey, owner);
    },
    async claimOnce(claimKey, expiresAt, now) {
      return claimOnce(tables, claimKey, expiresAt, now, claimSweep);
    },
    async releaseClaim(claimKey) {
      tables.claims.delete(claimKey);
    },

    async getPolicies(tenantId, connectionId) {
      requireTenant(tenantId);
      return policiesOf(tenantId, connectionId);
    },

    async savePolicy(tenantId, connectionId, input) {
      const policy = parsePolicyToSave(tenantId, connectionId, input);
      if (connectionId !== null) {
        const connection = tables.connections.get(connectionId);
        if (!connection || connection.tenantId !== tenantId)
          throw new ThreadlinkError('CONNECTION_NOT_FOUND', 'No such connection', { details: { connectionId } });
      }
      tables.policies.set(policyKey(tenantId, connectionId), { tenantId, connectionId, policy: copy(policy) });
    },

    async purgeMessages(tenantId, messageIds): Promise<MessagePurge> {
      const report: MessagePurge = { messageIds: [], links: 0 };
      for (const id of parsePurgeIds(tenantId, messageIds)) {
        const message = tenantMessage(tenantId, id);
        if (!message) continue;
        report.links += deleteMessage(tables, message);
        report.messageIds.push(id);
      }
      return report;
    },

    async claimPush(claim) {
      return claimPushNow(claim);
    },

    async getSyncContext(connectionId) {
      return syncContextOf(connectionId);
    },

    async acquireSyncLeases(requests) {
      for (const request of requests) checkLeaseRequest(request);
      // Synchronous throughout: nothing interleaves, as one statement.
      return requests.map((request) => takeSyncLease(request));
    },

    async claimPushes(claims) {
      for (const claim of claims) checkClaimRequest(claim.key, claim.expiresAt, claim.now);
      return claims.map((claim) => claimPushNow(claim));
    },

    async claimPushesForAccounts(claims, accounts) {
      for (const claim of claims) checkClaimRequest(claim.key, claim.expiresAt, claim.now);
      const leaseRequests = claims.map((claim) => (claim.lease ? { ...claim.lease, now: claim.now, connectionId: claim.connectionId } : undefined));
      for (const request of leaseRequests) if (request) checkLeaseRequest(request);
      // Synchronous from the claims to the read: nothing interleaves, as one transaction.
      const won = claims.map((claim) => claimPushNow(claim));
      // A won claim's lease, with its connection as acquireSyncLeases reads it.
      const leases = leaseRequests.map((request, index): SyncLeaseResult | undefined => {
        if (!request) return undefined;
        return won[index] === true ? takeSyncLease(request) : { acquired: false, context: null };
      });
      const connectionIds = accounts.map(({ provider, accountEmail }) => {
        const address = accountEmail.trim().toLowerCase();
        return [...tables.connections.values()]
          .filter((connection) => connection.provider === provider && connection.accountEmail === address && TAKES_PUSHES.has(connection.status))
          .map((connection) => connection.id)
          .sort(compareIds);
      });
      return leaseRequests.some(Boolean) ? { won, connectionIds, leases } : { won, connectionIds };
    },

    async purgeConnection(connectionId): Promise<PurgeReport> {
      const report: PurgeReport = { connections: 0, messages: 0, links: 0, other: 0 };
      for (const id of [...indexGet(tables.indexes.byConnection, connectionId)]) {
        const message = tables.messages.get(id);
        if (!message) continue;
        report.links += deleteMessage(tables, message);
        report.messages += 1;
      }
      const connection = tables.connections.get(connectionId);
      if (connection) {
        for (const id of subscriptionIds(connection)) indexRemove(tables.indexes.bySubscription, id, connectionId);
        tables.connections.delete(connectionId);
        report.connections = 1;
        if (tables.policies.delete(policyKey(connection.tenantId, connectionId))) report.other += 1;
      }
      report.other += tables.labels.get(connectionId)?.length ?? 0;
      tables.labels.delete(connectionId);
      for (const table of [tables.leases, tables.claims]) {
        for (const rowKey of [...table.keys()]) {
          if (!keyNamesConnection(rowKey, connectionId)) continue;
          table.delete(rowKey);
          report.other += 1;
        }
      }
      return report;
    },

    exportConnection(connectionId): AsyncIterable<ExportRecord> {
      // Snapshot when iteration starts: one consistent picture even if syncs run meanwhile.
      const snapshot = (): ExportRecord[] => {
        const connection = tables.connections.get(connectionId);
        if (!connection) return [];
        const messages = oldestFirst(tables, indexGet(tables.indexes.byConnection, connectionId));
        return copy<ExportRecord[]>([
          { kind: 'connection', data: { ...connection, sealedTokens: '[sealed]' } },
          ...(tables.labels.get(connectionId) ?? []).map((label): ExportRecord => ({ kind: 'label', data: { connectionId, ...label } })),
          ...messages.map((data): ExportRecord => ({ kind: 'message', data })),
          ...messages.flatMap((message) => linksOf(tables, message.id).map((data): ExportRecord => ({ kind: 'link', data }))),
        ]);
      };
      return {
        async *[Symbol.asyncIterator]() {
          yield* snapshot();
        },
      };
    },
  };
  rawAccess.set(store, raw);
  return store;
}
