// The MetadataStore on SQL. Every statement is plain PostgreSQL that PGlite runs unchanged.
// Bulk writes pass one jsonb array per table and expand it with jsonb_to_recordset, so a sync
// batch of N messages costs a fixed number of statements, never N round trips.
import {
  threadIdsToRead,
  withThreadLinks,
  applyConnectionPatch,
  assignStoredIds,
  connectionIdList,
  keysetPage,
  parseHealthPatch,
  parseIndexLookup,
  parseLabelDirectory,
  parseParticipantActivityQuery,
  parseLinksToAdd,
  parseManualLink,
  parseRecordRef,
  parseStoredConnection,
  parseStoredOrganization,
  parseDueLimit,
  compareIds,
  parseSyncBatch,
  groupCommit,
  type ParsedSyncBatch,
  parseTimelineQuery,
  requireTenant,
  stringList,
  syncResult,
  ThreadlinkError,
  checkClaimRequest,
  PUSH_TAKING_STATUSES,
  checkLeaseRequest,
  validateSyncBatch,
  parsePolicyToSave,
  parsePurgeIds,
  parseStoredPolicy,
  type ApplySyncOptions,
  type ApplySyncResult,
  type PreparedSync,
  type SyncPreview,
  type Connection,
  type ConnectionLabel,
  type ConnectionPolicy,
  type TenantPolicy,
  type ConnectionPatch,
  type ConnectionQuery,
  type ExportRecord,
  type LeaseRequest,
  type MessageIndexQuery,
  type MetadataStore,
  type PageRequest,
  type SyncPlan,
  type PurgeReport,
  type RecordLink,
  type StoredIdLookup,
  type StoredMessage,
  type StoredPolicies,
  type PushAccount,
  type PushClaim,
  type PushClaimsAnswer,
  type SyncBatch,
  type SyncLeaseRequest,
  type SyncLeaseResult,
  type ThreadPage,
  type TimelineQuery,
} from '@threadlink/core/store';
import { toStoreError } from './errors.js';
import { quoteIdentifier, sqlLiteral } from './identifiers.js';
import { loadMigrations, migrate, type Migration, type MigrationReport } from './migrations.js';
import {
  CONNECTION_COLUMNS,
  connectionFromRow,
  connectionParams,
  linkFromRow,
  ORGANIZATION_COLUMNS,
  organizationFromRow,
  organizationParams,
  linkJson,
  messageFromRow,
  messageJson,
  messageSelect,
  participantJson,
  referenceTokenJson,
  toJsonParam,
  type ConnectionRow,
  type LinkRow,
  type MessageRow,
  type OrganizationRow,
} from './rows.js';
import type { SqlClient, SqlExecutor, SqlResult, SqlRow, SqlTransaction } from './sql-client.js';

/** Every table the store writes (children first). */
export const STORE_TABLES = [
  'record_links',
  'participants',
  'reference_tokens',
  'messages',
  'labels',
  'connections',
  'leases',
  'claims',
  'ingestion_policies',
  'organizations',
] as const;

export interface SqlStoreOptions {
  /** PostgreSQL schema holding the tables (created by init). Default 'threadlink'. */
  schema?: string;
  /** Rows per batch in exportConnection. Default 500. */
  exportBatchSize?: number;
  /** Replace the shipped migrations (tests). */
  migrations?: Migration[];
  /**
   * How long a migration statement may wait for a table lock (default 1 s) before init() backs off
   * and tries again (up to 20 attempts). A rolling deploy's running release is then blocked for at
   * most about this long by the new release's migration, never for a whole long transaction.
   */
  migrationLockTimeoutMs?: number;
  /**
   * Prepare the statements run for every push and sync job (the claim, the lease) once per
   * connection instead of parsing and planning them each time. Default true. Set false behind a
   * pooler that shares server connections per transaction and does not track prepared statements
   * (PgBouncer in transaction mode before 1.21, or with `max_prepared_statements = 0`).
   */
  preparedStatements?: boolean;
}

export interface SqlMetadataStore extends MetadataStore {
  readonly schema: string;
  /** The query interface underneath (health checks, operational queries, tests). */
  readonly sql: SqlClient;
  /** Applies pending migrations; what init() runs. */
  migrate(): Promise<MigrationReport>;
  /** Physical access for conformance checks and audits: every stored row per table, as stored. */
  readonly raw: { dump(): Promise<Record<string, unknown[]>> };
  /** Always present here; null where the client cannot hold a transaction (PGlite, a pool of one) or the store is busy. */
  prepareSync(connectionId: string, preview: SyncPreview): PreparedSync | null;
}

const MESSAGE_COLUMN_LIST = `tenant_id, id, connection_id, user_id, provider, provider_message_id, provider_thread_id,
  thread_id, internet_message_id, in_reply_to, message_references, subject, sent_at, received_at, direction, folder,
  labels, attachments, has_attachments, synced_at`;

const MESSAGE_RECORDSET = `x(tenant_id text, id text, connection_id text, user_id text, provider text,
  provider_message_id text, provider_thread_id text, thread_id text, internet_message_id text, in_reply_to text,
  message_references text[], subject text, sent_at bigint, received_at bigint, direction text, folder text,
  labels text[], attachments jsonb, has_attachments boolean, synced_at bigint)`;

/**
 * Columns an upsert replaces; id, tenant and connection stay (links point at the stored id). A
 * message's In-Reply-To and References never change, but not every copy shows them (Graph's Sent
 * Items copy has no internetMessageHeaders): an upsert without either keeps both as stored.
 */
const MESSAGE_UPDATE_SET = [
  'user_id',
  'provider',
  'provider_thread_id',
  'thread_id',
  'internet_message_id',
  'subject',
  'sent_at',
  'received_at',
  'direction',
  'folder',
  'labels',
  'attachments',
  'has_attachments',
  'synced_at',
]
  .map((column) => `${column} = EXCLUDED.${column}`)
  .concat(
    ['in_reply_to', 'message_references'].map(
      (column) =>
        `${column} = CASE WHEN EXCLUDED.in_reply_to IS NULL AND cardinality(EXCLUDED.message_references) = 0 THEN stored.${column} ELSE EXCLUDED.${column} END`,
    ),
  )
  .join(', ');

const LINK_COLUMN_LIST = `tenant_id, message_id, connection_id, record_type, record_id, record_label, rule, reason, confidence,
  manual, suppressed, created_at`;

const LINK_RECORDSET = `x(message_id text, record_type text, record_id text, record_label text, rule text, reason text,
  confidence double precision, manual boolean, suppressed boolean, created_at bigint)`;

/** One applySync call, parsed; `threadIds` are those its `linksFromThreads` asks to be read. */
interface SyncEntry {
  connectionId: string;
  batch: SyncBatch;
  parsed: ParsedSyncBatch;
  threadIds: string[];
}

/** What one call of a shared transaction got: its result, or its own error. */
type SyncOutcome = { result: ApplySyncResult } | { error: unknown };

/** A transaction's opening: its statements, and how its results map to the calls (see closeTogether). */
interface SyncOpening {
  /** The calls' indexes in the order they are planned and written (lease-key order). */
  order: number[];
  /** Each planned call's read, in `order`; null where it reads nothing. */
  reads: Array<string | null>;
  statements: string[];
  /** The index of the row-lock statement's result. */
  locked: number;
}

/** A transaction prepareSync opened, waiting for its page's applySync. */
interface Held {
  handle: PreparedSync;
  /** True when the opening locked this call's row and read everything its plan needs. */
  covers(entry: SyncEntry): boolean;
  /** Hands the call to the transaction: its outcome, or null when the transaction failed before it answered. */
  take(entry: SyncEntry): Promise<SyncOutcome | null>;
  /** Settles when the transaction is over (committed or rolled back). */
  settled: Promise<void>;
}

/** How long a prepared transaction waits for its applySync before it is rolled back (its row lock held meanwhile). */
const PREPARED_HOLD_MS = 1000;
/**
 * A store prepares only when no applySync began this recently: a prepared page commits alone, and
 * where commits come this often (a burst; ~20 a second and more, when one more is likely to come
 * within the provider's round trip) sharing one transaction between several is worth more than the
 * round trip a prepared page saves. Measured (issue 21): at 100 offered/s, preparing whenever none
 * was in flight took transactions per message from 1.85–1.91 to 1.94–2.02.
 */
const PREPARE_QUIET_MS = 50;
/** Thrown inside a prepared transaction that was let go: it rolls back. */
const LET_GO = new Error('prepared sync transaction let go');

/** A batch with more changes than this commits alone (a back-fill page): it would hold a shared transaction. */
const GROUPED_MAX_CHANGES = 50;
/** Calls in one shared transaction at most. */
const GROUPED_MAX_CALLS = 32;
/**
 * How long a shared attempt waits for a row lock before it gives up and every call runs alone: one
 * row held elsewhere (a connection being deleted) must not hold up the other calls' commits, nor
 * the calls queued behind the attempt. A push's claim holds a row for a statement (milliseconds).
 */
const GROUPED_LOCK_TIMEOUT_MS = 100;

const leaseKeyOf = (entry: SyncEntry | undefined): string => entry?.batch.releaseLease?.key ?? '';
/** Byte order of the UTF-8 strings: PostgreSQL's COLLATE "C", in which leases are taken. */
const compareBytes = (left: string, right: string): number => Buffer.compare(Buffer.from(left), Buffer.from(right));

/**
 * A patch that touches health (and at most updatedAt) and nothing else, validated, or null. Such a
 * patch cannot make a valid stored connection invalid, so it needs no read-validate-write round.
 */
function healthOnlyPatch(patch: ConnectionPatch): { health: Record<string, unknown>; updatedAt?: number } | null {
  if (typeof patch !== 'object' || patch === null || patch.health === undefined) return null;
  const fields = Object.entries(patch)
    .filter(([, value]) => value !== undefined)
    .map(([field]) => field);
  if (fields.some((field) => field !== 'health' && field !== 'updatedAt')) return null;
  // A bad updatedAt takes the general path, which rejects it with the usual error.
  if (patch.updatedAt !== undefined && !(Number.isSafeInteger(patch.updatedAt) && patch.updatedAt >= 0)) return null;
  const health = parseHealthPatch(patch.health);
  return patch.updatedAt === undefined ? { health } : { health, updatedAt: patch.updatedAt };
}

/** A lease taken, with the connection it is for (null: gone) and its stored policies. */
function leaseTaken(connection: ConnectionRow | null, tenantPolicy: unknown, connectionPolicy: unknown): SyncLeaseResult {
  if (!connection) return { acquired: true, context: null };
  return { acquired: true, context: { connection: connectionFromRow(connection), policies: storedPolicies(tenantPolicy, connectionPolicy) } };
}

/** Stored policy documents (null/undefined: none saved) as getPolicies answers them. */
function storedPolicies(tenant: unknown, own: unknown): StoredPolicies {
  return {
    tenant: tenant === null || tenant === undefined ? null : (parseStoredPolicy('tenant', tenant) as TenantPolicy),
    connection: own === null || own === undefined ? null : (parseStoredPolicy('connection', own) as ConnectionPolicy),
  };
}

export function createSqlStore(sql: SqlClient, options: SqlStoreOptions = {}): SqlMetadataStore {
  const schema = options.schema ?? 'threadlink';
  const quotedSchema = quoteIdentifier(schema);
  const table = (name: string): string => `${quotedSchema}.${name}`;
  const exportBatchSize = options.exportBatchSize ?? 500;
  const hot = { prepare: options.preparedStatements ?? true };
  const selectMessages = messageSelect(table);
  /**
   * Takes the leases `source` asks for (one row per key, with its `now`), in key order so two
   * statements never deadlock on them; an expired lease is taken over. Returns the keys taken.
   */
  const takeLeases = (source: string, key: string, owner: string, expiresAt: string): string => `
           INSERT INTO ${table('leases')} AS lease (key, owner, expires_at)
           SELECT ${key}, ${owner}, ${expiresAt} FROM ${source} ORDER BY ${key} COLLATE "C"
           ON CONFLICT (key) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
            WHERE lease.expires_at <= (SELECT a.now FROM ${source} a WHERE a.${key} = EXCLUDED.key)
           RETURNING lease.key`;
  /** Both ingestion policies of connection `c` (null where none is saved), as a sync job starts from them. */
  const policiesOf = (c: string): string =>
    `(SELECT p.policy FROM ${table('ingestion_policies')} p WHERE p.tenant_id = ${c}.tenant_id AND p.connection_id = '') AS tenant_policy,
           (SELECT p.policy FROM ${table('ingestion_policies')} p WHERE p.tenant_id = ${c}.tenant_id AND p.connection_id = ${c}.id) AS connection_policy`;
  // Webhook intake's claim statement (claimPushesForAccounts), and its variant that also takes the
  // sync leases of won claims for the jobs this instance runs at once (PushClaim.lease).
  const claimParts = (withLeases: boolean): string => `WITH input AS (
           SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(ord integer, key text, expires_at double precision, now double precision, connection_id text, last_push_at double precision${
             withLeases ? ', lease_key text, lease_owner text, lease_expires_at double precision' : ''
           })
         ), firsts AS (
           SELECT DISTINCT ON (key COLLATE "C") * FROM input ORDER BY key COLLATE "C", ord
         ), claimed AS (
           INSERT INTO ${table('claims')} AS claim (key, expires_at)
           SELECT key, expires_at FROM firsts ORDER BY key COLLATE "C"
           ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at
            WHERE claim.expires_at <= (SELECT f.now FROM firsts f WHERE f.key = EXCLUDED.key)
           RETURNING claim.key
         ), won AS (
           SELECT f.* FROM firsts f JOIN claimed c ON c.key = f.key
         ), pushes AS (
           SELECT connection_id, max(last_push_at) AS last_push_at FROM won WHERE last_push_at IS NOT NULL GROUP BY connection_id
         ), locked AS MATERIALIZED (
           -- Row locks in id order, as the claims above are taken in key order: two instances' batches
           -- naming the same mailboxes in another order deadlocked here (the UPDATE alone locks rows in
           -- whatever order its join produces).
           SELECT c.id FROM ${table('connections')} c JOIN pushes p ON p.connection_id = c.id ORDER BY c.id COLLATE "C" FOR UPDATE OF c
         ), pushed AS (
           UPDATE ${table('connections')} c SET health = c.health || jsonb_build_object('lastPushAt', p.last_push_at)
             FROM pushes p JOIN locked l ON l.id = p.connection_id
            WHERE c.id = p.connection_id
           RETURNING 1
         ), asked AS (
           SELECT * FROM jsonb_to_recordset($2::jsonb) AS a(ord integer, provider text, account_email text)
         )${
           withLeases
             ? `, lease_asks AS (
           -- Leases as acquireSyncLeases takes them: in key order, the first ask of a key only; and
           -- only after the connection rows are locked (reading \`locked\` makes it run first): applySync
           -- locks its connection row, then deletes its lease, so taking a lease before a connection
           -- lock here would deadlock with it.
           SELECT DISTINCT ON (lease_key COLLATE "C") won.* FROM won CROSS JOIN (SELECT count(*) FROM locked) AS after_locks
            WHERE lease_key IS NOT NULL ORDER BY lease_key COLLATE "C", ord
         ), leased AS (${takeLeases('lease_asks', 'lease_key', 'lease_owner', 'lease_expires_at')})`
             : ''
         }`;
  const accountsPart = `SELECT -1 - a.ord AS ord,
                ARRAY(SELECT c.id FROM ${table('connections')} c
                       WHERE c.provider = a.provider AND c.account_email = a.account_email AND c.status = ANY($3::text[])
                       ORDER BY c.id COLLATE "C") AS ids`;
  const claimSql = `${claimParts(false)}
         SELECT ord, NULL::text[] AS ids FROM won
         UNION ALL
         ${accountsPart}
           FROM asked a`;
  const claimWithLeasesSql = `${claimParts(true)}
         SELECT w.ord, NULL::text[] AS ids, l.key IS NOT NULL AS leased, to_jsonb(c) AS connection_row, ${policiesOf('c')}
           FROM won w
           LEFT JOIN lease_asks la ON la.ord = w.ord
           LEFT JOIN leased l ON l.key = la.lease_key
           LEFT JOIN ${table('connections')} c ON c.id = w.connection_id AND l.key IS NOT NULL
         UNION ALL
         ${accountsPart}, false AS leased, NULL::jsonb AS connection_row, NULL::jsonb AS tenant_policy, NULL::jsonb AS connection_policy
           FROM asked a`;
  let initialised: Promise<MigrationReport> | null = null;
  let claimsSinceSweep = 0;

  async function run<T>(operation: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toStoreError(error, operation);
    }
  }

  /** Messages matching `where`, oldest first unless `tail` orders (and limits) otherwise. */
  async function readMessages(executor: SqlExecutor, where: string, params: unknown[], tail = 'ORDER BY m.received_at, m.id'): Promise<StoredMessage[]> {
    const result = await executor.query<MessageRow>(`${selectMessages} WHERE ${where} ${tail}`, params);
    return result.rows.map(messageFromRow);
  }

  /** Insert or replace a row by id, never across tenants: false when the id belongs to another tenant. */
  async function upsertInTenant(name: string, columns: readonly string[], params: unknown[]): Promise<boolean> {
    const placeholders = columns.map((_column, index) => `$${index + 1}`).join(', ');
    const updates = columns
      .filter((column) => column !== 'id' && column !== 'tenant_id')
      .map((column) => `${column} = EXCLUDED.${column}`)
      .join(', ');
    const result = await sql.query(
      `INSERT INTO ${table(name)} AS stored (${columns.join(', ')}) VALUES (${placeholders})
       ON CONFLICT (id) DO UPDATE SET ${updates} WHERE stored.tenant_id = EXCLUDED.tenant_id`,
      params,
    );
    return result.rowCount > 0;
  }

  /**
   * Several pushes' claims and their lastPushAt in ONE statement (see claimPush): the claims are
   * inserted in key order (two concurrent batches lock rows in the same order, never deadlock),
   * the same key twice is claimed by its first entry only, and each connection's health gets the
   * latest lastPushAt among the claims won.
   */
  async function claimPushes(claims: PushClaim[]): Promise<boolean[]> {
    // A lease rides only with claimPushesForAccounts, whose answer can carry it.
    return (
      await claimPushesForAccounts(
        claims.map(({ lease: _lease, ...claim }) => claim),
        [],
      )
    ).won;
  }

  /**
   * claimPushes, and in the same statement (one snapshot, one transaction) the ids of each account's
   * connections that take pushes: webhook intake checks its remembered look-ups with it. A claim
   * with a `lease` also takes that sync lease when it is won, and answers its connection and
   * policies as acquireSyncLeases does (the connection as of the statement's snapshot).
   */
  async function claimPushesForAccounts(claims: PushClaim[], accounts: PushAccount[]): Promise<PushClaimsAnswer> {
    if (claims.length === 0 && accounts.length === 0) return { won: [], connectionIds: [] };
    const withLeases = claims.some((claim) => claim.lease !== undefined);
    const input = claims.map((claim, ord) => {
      checkClaimRequest(claim.key, claim.expiresAt, claim.now);
      if (claim.lease) checkLeaseRequest({ ...claim.lease, now: claim.now });
      return {
        ord,
        key: claim.key,
        expires_at: claim.expiresAt,
        now: claim.now,
        connection_id: claim.connectionId,
        last_push_at: claim.lastPushAt === null ? null : parseHealthPatch({ lastPushAt: claim.lastPushAt }).lastPushAt,
        ...(withLeases
          ? {
              lease_key: claim.lease?.key ?? null,
              lease_owner: claim.lease?.owner ?? null,
              lease_expires_at: claim.lease ? claim.now + claim.lease.ttlMs : null,
            }
          : {}),
      };
    });
    const asked = accounts.map((account, ord) => ({ ord, provider: account.provider, account_email: account.accountEmail.trim().toLowerCase() }));
    // The push's hot path: no await at all unless a prepared transaction is held.
    if (held !== null) await freeRows(claims.map((claim) => claim.connectionId));
    return run('claimPushes', async () => {
      claimsSinceSweep += claims.length;
      if (claimsSinceSweep >= 1000) {
        claimsSinceSweep = 0;
        await sql.query(`DELETE FROM ${table('claims')} WHERE expires_at <= $1`, [Math.min(...claims.map((claim) => claim.now))]);
      }
      const result = await sql.query<{
        ord: number;
        ids: string[] | null;
        leased?: boolean;
        connection_row?: ConnectionRow | null;
        tenant_policy?: unknown;
        connection_policy?: unknown;
      }>(withLeases ? claimWithLeasesSql : claimSql, [toJsonParam(input), toJsonParam(asked), [...PUSH_TAKING_STATUSES]], hot);
      // Won claims come back as their ord, accounts as -1 - their ord.
      const winners = new Map<number, (typeof result.rows)[number]>();
      const connectionIds: string[][] = accounts.map(() => []);
      for (const row of result.rows) {
        const ord = Number(row.ord);
        if (ord >= 0) winners.set(ord, row);
        else connectionIds[-1 - ord] = row.ids ?? [];
      }
      const won = claims.map((_claim, ord) => winners.has(ord));
      if (!withLeases) return { won, connectionIds };
      const leases = claims.map((claim, ord): SyncLeaseResult | undefined => {
        if (!claim.lease) return undefined;
        const row = winners.get(ord);
        return row?.leased ? leaseTaken(row.connection_row ?? null, row.tenant_policy, row.connection_policy) : { acquired: false, context: null };
      });
      return { won, connectionIds, leases };
    });
  }

  /**
   * Several sync leases and, for each one won, the connection with its policies (getSyncContext's
   * read), in ONE statement. Leases are taken in key order (no deadlock between two batches); the
   * same key twice is tried by its first entry only.
   */
  async function acquireSyncLeases(requests: SyncLeaseRequest[]): Promise<SyncLeaseResult[]> {
    if (requests.length === 0) return [];
    const input = requests.map((request, ord) => {
      checkLeaseRequest(request);
      return { ord, key: request.key, owner: request.owner, expires_at: request.now + request.ttlMs, now: request.now, connection_id: request.connectionId };
    });
    return run('acquireSyncLeases', async () => {
      const result = await sql.query<Partial<ConnectionRow> & { ord: number; tenant_policy: unknown; connection_policy: unknown }>(
        `WITH input AS (
           SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(ord integer, key text, owner text, expires_at double precision, now double precision, connection_id text)
         ), firsts AS (
           SELECT DISTINCT ON (key COLLATE "C") * FROM input ORDER BY key COLLATE "C", ord
         ), leased AS (${takeLeases('firsts', 'key', 'owner', 'expires_at')})
         SELECT f.ord AS ord, c.*, ${policiesOf('c')}
         FROM firsts f JOIN leased l ON l.key = f.key
         LEFT JOIN ${table('connections')} c ON c.id = f.connection_id`,
        [toJsonParam(input)],
        hot,
      );
      const won = new Map(result.rows.map((row) => [Number(row.ord), row]));
      return requests.map((_request, ord): SyncLeaseResult => {
        const row = won.get(ord);
        if (!row) return { acquired: false, context: null };
        return leaseTaken(row.id === null || row.id === undefined ? null : (row as ConnectionRow), row.tenant_policy, row.connection_policy);
      });
    });
  }

  async function lockConnection(tx: SqlExecutor, connectionId: string): Promise<Connection | null> {
    const result = await tx.query<ConnectionRow>(`SELECT * FROM ${table('connections')} WHERE id = $1 FOR UPDATE`, [connectionId]);
    const row = result.rows[0];
    return row ? connectionFromRow(row) : null;
  }

  async function writeConnection(executor: SqlExecutor, connection: Connection): Promise<void> {
    const assignments = CONNECTION_COLUMNS.flatMap((column, index) => (column === 'id' || column === 'tenant_id' ? [] : [`${column} = $${index + 1}`]));
    await executor.query(`UPDATE ${table('connections')} SET ${assignments.join(', ')} WHERE tenant_id = $1 AND id = $2`, connectionParams(connection));
  }

  /**
   * Inserts the links of a JSON array ($2) whose message is in tenant $1 (the join drops any other,
   * so a link can never name another tenant's message); `onConflict` decides for a (message,
   * record) pair that already has a row.
   */
  const insertLinksOfTenant = (onConflict: string): string =>
    `INSERT INTO ${table('record_links')} (${LINK_COLUMN_LIST})
     SELECT m.tenant_id, m.id, m.connection_id, x.record_type, x.record_id, x.record_label,
            x.rule, x.reason, x.confidence, x.manual, x.suppressed, x.created_at
       FROM jsonb_to_recordset($2::jsonb) AS ${LINK_RECORDSET}
       JOIN ${table('messages')} m ON m.tenant_id = $1 AND m.id = x.message_id
     ON CONFLICT (tenant_id, message_id, record_type, record_id) ${onConflict}`;

  /** Inserts links whose message is in the tenant; a (message, record) pair that has a link keeps it. */
  async function insertLinks(executor: SqlExecutor, tenantId: string, links: RecordLink[]): Promise<number> {
    if (links.length === 0) return 0;
    const result = await executor.query(insertLinksOfTenant('DO NOTHING'), [tenantId, toJsonParam(links.map(linkJson))]);
    return result.rowCount;
  }

  const visibleTo = (column: string, parameter: number): string => `($${parameter}::text[] IS NULL OR ${column} = ANY($${parameter}::text[]))`;

  // ── applySync in two round trips (issue 21) ─────────────────────────────────────────────
  // A synced page is one transaction of two round trips on a pg pool: BEGIN + the connection's row
  // lock + the read the page is planned from, then the writes + COMMIT, each a simple-protocol
  // script. Scripts take no parameters, so values go in as literals (identifiers.ts sqlLiteral).
  // Each statement of a script gets its own snapshot, as if sent alone: the read after the lock
  // sees whatever the lock's previous holder committed.

  /** The read a page is planned from (its stored threads and the batch's stored ids); null when there is nothing to read. */
  function applySyncRead(connectionId: string, threadIds: string[], messages: ReadonlyArray<{ id: string; providerMessageId: string }>): string | null {
    if (threadIds.length === 0 && messages.length === 0) return null;
    const connection = sqlLiteral(connectionId);
    // The tenant comes from the (locked) connection row, so the thread read uses messages_thread.
    return `SELECT
       (SELECT jsonb_agg(to_jsonb(t) ORDER BY t.received_at, t.id)
          FROM (${selectMessages}
                 WHERE m.tenant_id = (SELECT c.tenant_id FROM ${table('connections')} c WHERE c.id = ${connection})
                   AND m.thread_id = ANY(${sqlLiteral(threadIds)}::text[]) AND m.connection_id = ${connection}) t) AS threads,
       (SELECT jsonb_agg(jsonb_build_array(s.id, s.connection_id, s.provider_message_id))
          FROM ${table('messages')} s
         WHERE (s.connection_id = ${connection} AND s.provider_message_id = ANY(${sqlLiteral(messages.map((message) => message.providerMessageId))}::text[]))
            OR s.id = ANY(${sqlLiteral(messages.map((message) => message.id))}::text[])) AS ids`;
  }

  /** What the opening's read answered: the stored messages of the page's threads, and the stored-id look-up. */
  function plannedFrom(connectionId: string, read: SqlRow | undefined): { threads: StoredMessage[]; storedIds: StoredIdLookup } {
    const storedIdByProviderId = new Map<string, string>();
    const takenIds = new Set<string>();
    for (const [id, owner, providerMessageId] of (read?.ids as Array<[string, string, string]> | null | undefined) ?? []) {
      if (owner === connectionId) storedIdByProviderId.set(providerMessageId, id);
      takenIds.add(id);
    }
    return {
      threads: ((read?.threads as MessageRow[] | null | undefined) ?? []).map(messageFromRow),
      storedIds: {
        storedIdOf: (providerMessageId) => storedIdByProviderId.get(providerMessageId),
        isTaken: (messageId) => takenIds.has(messageId),
      },
    };
  }

  /**
   * The closing: everything a planned page writes, sent with COMMIT. First the rows of replaced
   * messages are cleared (a statement of its own: a sibling CTE would not see that delete, and the
   * re-inserted participants would collide); then ONE statement of data-modifying CTEs writes the
   * messages with their participants and tokens, the batch's links, the connection's next state and
   * the lease let go (foreign keys are checked at the statement's end, so the parts may name each
   * other's rows); then the deletes, with every child row (after the upserts: a batch may insert
   * and delete the same message). `deletes` is the index of the deletes' result, or -1.
   */
  function applySyncClosing(
    connection: Connection,
    plan: SyncPlan,
    releaseLease: { key: string; owner: string } | undefined,
  ): { statements: string[]; deletes: number } {
    const statements: string[] = [];
    const tenant = sqlLiteral(connection.tenantId);
    const connectionId = sqlLiteral(connection.id);
    const json = (value: unknown): string => `${sqlLiteral(toJsonParam(value))}::jsonb`;
    const { upserts, links, nextConnection, deletes } = plan;

    const replaced = upserts.filter((upsert) => upsert.exists).map(({ message }) => message.id);
    if (replaced.length > 0) {
      // Participants and tokens are rewritten; automatic links are the matcher's to recompute,
      // while a user's decisions (manual, suppressed) stay.
      const ids = `${sqlLiteral(replaced)}::text[]`;
      statements.push(
        `WITH participants AS (DELETE FROM ${table('participants')} WHERE tenant_id = ${tenant} AND message_id = ANY(${ids})),
              tokens AS (DELETE FROM ${table('reference_tokens')} WHERE tenant_id = ${tenant} AND message_id = ANY(${ids}))
         DELETE FROM ${table('record_links')} WHERE tenant_id = ${tenant} AND message_id = ANY(${ids}) AND NOT manual`,
      );
    }

    const parts: string[] = [];
    if (upserts.length > 0) {
      parts.push(
        `INSERT INTO ${table('messages')} AS stored (${MESSAGE_COLUMN_LIST})
         SELECT ${MESSAGE_COLUMN_LIST} FROM jsonb_to_recordset(${json(upserts.map(({ message }) => messageJson(message)))}) AS ${MESSAGE_RECORDSET}
         ON CONFLICT (connection_id, provider_message_id) DO UPDATE SET ${MESSAGE_UPDATE_SET}`,
      );
      const participants = upserts.flatMap(({ message }) => participantJson(message.id, message));
      if (participants.length > 0) {
        parts.push(
          `INSERT INTO ${table('participants')} (tenant_id, connection_id, message_id, role, position, address, domain, display_name)
           SELECT ${tenant}, ${connectionId}, x.message_id, x.role, x.position, x.address, x.domain, x.display_name
             FROM jsonb_to_recordset(${json(participants)}) AS x(message_id text, role text, position integer, address text, domain text, display_name text)`,
        );
      }
      const tokens = upserts.flatMap(({ message }) => referenceTokenJson(message.id, message));
      if (tokens.length > 0) {
        parts.push(
          `INSERT INTO ${table('reference_tokens')} (tenant_id, connection_id, message_id, position, token)
           SELECT ${tenant}, ${connectionId}, x.message_id, x.position, x.token
             FROM jsonb_to_recordset(${json(tokens)}) AS x(message_id text, position integer, token text)`,
        );
      }
    }
    if (links.length > 0) {
      // Every link names a message of this batch (checked before), so no join to prove it. Pairs
      // with a manual decision already have a row: DO NOTHING skips them.
      parts.push(
        `INSERT INTO ${table('record_links')} (${LINK_COLUMN_LIST})
         SELECT ${tenant}, x.message_id, ${connectionId}, x.record_type, x.record_id, x.record_label,
                x.rule, x.reason, x.confidence, x.manual, x.suppressed, x.created_at
           FROM jsonb_to_recordset(${json(links.map(linkJson))}) AS ${LINK_RECORDSET}
         ON CONFLICT (tenant_id, message_id, record_type, record_id) DO NOTHING`,
      );
    }
    if (nextConnection) {
      // Only the columns the page changes (the cursor, health; rarely more): a smaller statement, and
      // the sealed tokens never go into SQL text (a server logs a failed statement's text).
      const before = connectionParams(connection);
      const after = connectionParams(nextConnection);
      const assignments = CONNECTION_COLUMNS.flatMap((column, index) =>
        column === 'id' || column === 'tenant_id' || column === 'sealed_tokens' || JSON.stringify(before[index]) === JSON.stringify(after[index])
          ? []
          : [`${column} = ${sqlLiteral(after[index])}`],
      );
      if (assignments.length > 0) {
        parts.push(`UPDATE ${table('connections')} SET ${assignments.join(', ')} WHERE tenant_id = ${tenant} AND id = ${connectionId}`);
      }
    }
    if (releaseLease) {
      parts.push(`DELETE FROM ${table('leases')} WHERE key = ${sqlLiteral(releaseLease.key)} AND owner = ${sqlLiteral(releaseLease.owner)}`);
    }
    if (parts.length === 1) statements.push(parts[0] as string);
    else if (parts.length > 1) statements.push(`WITH ${parts.map((part, index) => `part${index} AS (${part})`).join(',\n')}\nSELECT 1`);

    if (deletes.length === 0) return { statements, deletes: -1 };
    // Participants, tokens and every link (manual ones too) go with their message.
    statements.push(
      `WITH removed AS (
         DELETE FROM ${table('messages')} WHERE connection_id = ${connectionId} AND provider_message_id = ANY(${sqlLiteral(deletes)}::text[]) RETURNING id, provider_message_id
       ), participants AS (
         DELETE FROM ${table('participants')} WHERE tenant_id = ${tenant} AND message_id IN (SELECT id FROM removed)
       ), tokens AS (
         DELETE FROM ${table('reference_tokens')} WHERE tenant_id = ${tenant} AND message_id IN (SELECT id FROM removed)
       ), links AS (
         DELETE FROM ${table('record_links')} WHERE tenant_id = ${tenant} AND message_id IN (SELECT id FROM removed)
       )
       SELECT id, provider_message_id FROM removed`,
    );
    return { statements, deletes: statements.length - 1 };
  }

  // ── applySync calls made together share their round trips (issue 21) ────────────────────
  // In a burst many sync jobs commit at once, each a transaction of two round trips, and on a busy
  // box a round trip's cost is mostly the wake-ups at both ends, not the bytes. Calls of different
  // connections that arrive while another is in flight (core's group commit: a lone call goes on the
  // next turn) go as ONE transaction of two round trips: one statement locks every row in id order,
  // each call's read follows; then every call's writes and one COMMIT. Each call is planned and
  // checked on its own (its CURSOR_CONFLICT or INVALID_INPUT fails it alone). If the transaction
  // fails as a whole (a lock waited past GROUPED_LOCK_TIMEOUT_MS, a deadlock, one batch's SQL error),
  // nothing of it was written and every call runs again alone, so only its own error reaches a caller.

  /** Plans a call from its locked row and read: its own errors (no row, CURSOR_CONFLICT, INVALID_INPUT) throw here. */
  function planEntry(entry: SyncEntry, row: ConnectionRow | undefined, read: SqlRow | undefined): { connection: Connection; plan: SyncPlan } {
    if (!row) throw new ThreadlinkError('CONNECTION_NOT_FOUND', 'No such connection', { details: { connectionId: entry.connectionId } });
    const connection = connectionFromRow(row);
    // The page's stored threads and the batch's stored ids, read under the lock: a sync batch
    // is one transaction (issue 21).
    const { threads, storedIds } = plannedFrom(connection.id, read);
    // Only the threads the batch asked for (a prepared opening may have read more: its listing's).
    const asked = new Set(entry.threadIds);
    const validated = validateSyncBatch(
      connection,
      withThreadLinks(
        entry.batch,
        entry.parsed,
        threads.filter((message) => asked.has(message.threadId)),
      ),
    );
    return { connection, plan: assignStoredIds(validated, storedIds) };
  }

  async function writeSealedTokens(tx: SqlExecutor, connection: Connection, plan: SyncPlan): Promise<void> {
    if (plan.nextConnection && plan.nextConnection.sealedTokens !== connection.sealedTokens) {
      // Never in SQL text (see applySyncClosing): a round trip of its own, with a parameter.
      await tx.query(`UPDATE ${table('connections')} SET sealed_tokens = $1 WHERE id = $2`, [plan.nextConnection.sealedTokens, connection.id]);
    }
  }

  /** The call's answer from its deletes' result (the ids they removed), in the batch's order as syncResult reports them. */
  function resultOf(plan: SyncPlan, deleted: { rows: SqlRow[] } | undefined): ApplySyncResult {
    const removedIdOf = new Map((deleted?.rows ?? []).map((removed) => [removed.provider_message_id as string, removed.id as string]));
    const removedIds = plan.deletes.flatMap((providerMessageId) => {
      const id = removedIdOf.get(providerMessageId);
      return id === undefined ? [] : [id];
    });
    return syncResult(plan.upserts, removedIds);
  }

  /** A call's answer: its result, or its own error thrown. */
  const answerOf = (outcome: SyncOutcome): ApplySyncResult => {
    if ('error' in outcome) throw outcome.error;
    return outcome.result;
  };

  /** One call in its own transaction of two round trips, waiting for its row as long as it takes. */
  async function applySyncAlone(entry: SyncEntry): Promise<ApplySyncResult> {
    return answerOf((await applySyncTogether([entry], false))[0] as SyncOutcome);
  }

  /** The opening of a transaction for `entries`: their rows locked in id order, then each one's read, in lease-key order. */
  function openingOf(entries: readonly SyncEntry[], boundedWait: boolean): SyncOpening {
    // Writes in lease-key order: each call's closing lets its lease go, and leases are taken in key
    // order everywhere (acquireSyncLeases, the push claim), so no two transactions wait on each other.
    const order = entries.map((_entry, index) => index).sort((left, right) => compareBytes(leaseKeyOf(entries[left]), leaseKeyOf(entries[right])));
    const reads = order.map((index) => {
      const entry = entries[index] as SyncEntry;
      return applySyncRead(entry.connectionId, entry.threadIds, entry.parsed.upserts);
    });
    return openingStatements(
      entries.map((entry) => entry.connectionId),
      order,
      reads,
      boundedWait,
    );
  }

  function openingStatements(connectionIds: readonly string[], order: number[], reads: Array<string | null>, boundedWait: boolean): SyncOpening {
    const statements = [
      ...(boundedWait ? [`SET LOCAL lock_timeout = '${GROUPED_LOCK_TIMEOUT_MS}ms'`] : []),
      // Rows locked in id order, as the push claim locks them. The row lock serialises writers of one
      // connection: two engines racing on the same cursor queue here, and the second one fails the
      // compare-and-set of its plan.
      `SELECT * FROM ${table('connections')} WHERE id = ANY(${sqlLiteral(connectionIds)}::text[]) ORDER BY id COLLATE "C" FOR UPDATE`,
      ...reads.filter((read): read is string => read !== null),
    ];
    return { order, reads, statements, locked: boundedWait ? 1 : 0 };
  }

  /** Plans every call from what the opening answered and commits their writes in one round trip; an outcome per call. */
  async function closeTogether(tx: SqlTransaction, opened: SqlResult<SqlRow>[], entries: readonly SyncEntry[], opening: SyncOpening): Promise<SyncOutcome[]> {
    const { order, reads, locked } = opening;
    const rows = new Map((opened[locked]?.rows ?? []).map((row) => [String(row.id), row as unknown as ConnectionRow]));
    const outcomes: SyncOutcome[] = [];
    const statements: string[] = [];
    const planned: Array<{ index: number; plan: SyncPlan; deletes: number }> = [];
    let nextRead = locked + 1;
    for (const [position, index] of order.entries()) {
      const entry = entries[index] as SyncEntry;
      const read = reads[position] === null ? undefined : opened[nextRead++]?.rows[0];
      let entryPlan: { connection: Connection; plan: SyncPlan };
      try {
        entryPlan = planEntry(entry, rows.get(entry.connectionId), read);
      } catch (error) {
        // As the call alone would have failed: a ThreadlinkError as it is, anything else a STORE_ERROR.
        outcomes[index] = { error: toStoreError(error, 'applySync') };
        continue;
      }
      await writeSealedTokens(tx, entryPlan.connection, entryPlan.plan);
      const closing = applySyncClosing(entryPlan.connection, entryPlan.plan, entry.batch.releaseLease);
      planned.push({ index, plan: entryPlan.plan, deletes: closing.deletes < 0 ? -1 : statements.length + closing.deletes });
      statements.push(...closing.statements);
    }
    const results = statements.length > 0 ? await tx.commitWith(statements) : [];
    for (const { index, plan, deletes } of planned) outcomes[index] = { result: resultOf(plan, results[deletes]) };
    return outcomes;
  }

  /**
   * Calls of different connections in one transaction; an outcome per call, in their order.
   * `boundedWait`: a shared attempt gives up a row-lock wait after GROUPED_LOCK_TIMEOUT_MS.
   */
  async function applySyncTogether(entries: SyncEntry[], boundedWait: boolean): Promise<SyncOutcome[]> {
    const opening = openingOf(entries, boundedWait);
    return run('applySync', () => sql.transaction((tx, opened) => closeTogether(tx, opened, entries, opening), opening.statements));
  }

  // ── A page's transaction opened ahead of the page (prepareSync, issue 21) ───────────────
  // On a quiet store, core opens a sync page's transaction as soon as the provider has listed the
  // page (Gmail's history.list) and while it reads the messages: the same opening as above (row
  // lock, the read of the page's threads and ids) goes out then, and the applySync that brings the
  // page sends only its closing with COMMIT. Same transaction, same statements, one round trip less
  // after the provider's answer. The row stays locked across that provider round trip, so a push
  // claim for the same mailbox would wait for this commit meanwhile: only a quiet store prepares (no
  // applySync in flight nor begun in the last PREPARE_QUIET_MS, none held), one at a time, for
  // PREPARED_HOLD_MS at most, and a claim or connection write of this instance lets it go first.

  let held: Held | null = null;
  let syncsInFlight = 0;
  /** When the last applySync began (performance.now()). */
  let lastSyncAt = Number.NEGATIVE_INFINITY;

  /**
   * A write of these rows from this instance never waits on a prepared transaction of the same
   * instance: the held one is let go first (its page then commits as without it).
   */
  async function freeRows(connectionIds: Iterable<string>): Promise<void> {
    const current = held;
    if (current === null) return;
    for (const id of connectionIds) {
      if (id === current.handle.connectionId) {
        current.handle.release();
        await current.settled;
        return;
      }
    }
  }

  function prepareSync(connectionId: string, preview: SyncPreview): PreparedSync | null {
    if (held !== null || syncsInFlight > 0 || performance.now() - lastSyncAt < PREPARE_QUIET_MS || sql.canHoldTransaction?.() !== true) return null;
    const id = String(connectionId);
    const threadIds = new Set(preview.threadIds.map(String));
    const messages = new Map(preview.messages.map((message) => [String(message.id), String(message.providerMessageId)]));
    const opening = openingStatements(
      [id],
      [0],
      [
        applySyncRead(
          id,
          [...threadIds],
          [...messages].map(([messageId, providerMessageId]) => ({ id: messageId, providerMessageId })),
        ),
      ],
      false,
    );
    let hand: (entry: SyncEntry | null) => void = () => {};
    const handed = new Promise<SyncEntry | null>((resolve) => {
      hand = resolve;
    });
    // The transaction waits for its entry. Null: let go (rolled back), or it failed before it answered.
    const done = sql
      .transaction(async (tx, opened) => {
        const entry = await handed;
        if (entry === null) throw LET_GO;
        return (await closeTogether(tx, opened, [entry], opening))[0] as SyncOutcome;
      }, opening.statements)
      .catch((): null => null);
    const letGo = (): void => {
      if (held !== current) return;
      clearTimeout(timer);
      held = null;
      hand(null);
    };
    const timer = setTimeout(letGo, PREPARED_HOLD_MS);
    timer.unref?.();
    const current: Held = {
      handle: { connectionId: id, release: letGo },
      covers: (entry) =>
        entry.connectionId === id &&
        entry.threadIds.every((threadId) => threadIds.has(threadId)) &&
        entry.parsed.upserts.every((message) => messages.get(message.id) === message.providerMessageId),
      take(entry) {
        clearTimeout(timer);
        held = null;
        hand(entry);
        return done;
      },
      settled: done.then(() => undefined),
    };
    held = current;
    return current.handle;
  }

  const settle = (work: Promise<ApplySyncResult>): Promise<SyncOutcome> =>
    work.then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );

  // The group holds its slot only for the shared attempt (bounded by its lock timeout); a call that
  // must then run alone settles on its own, without holding up the calls that come next.
  const applySyncGrouped = groupCommit<SyncEntry, Promise<SyncOutcome>>(async (entries) => {
    // One call per connection in a transaction: a second call for a connection runs after the
    // first one's answer, alone, and meets the row (and cursor) the first one left.
    const firsts: number[] = [];
    const repeats: number[] = [];
    const seen = new Set<string>();
    for (const [index, entry] of entries.entries()) {
      (seen.has(entry.connectionId) ? repeats : firsts).push(index);
      seen.add(entry.connectionId);
    }
    const shared = await applySyncTogether(
      firsts.map((index) => entries[index] as SyncEntry),
      true,
    ).catch(() => null);
    const outcomes: Array<Promise<SyncOutcome>> = [];
    const latest = new Map<string, Promise<SyncOutcome>>();
    for (const [position, index] of firsts.entries()) {
      const entry = entries[index] as SyncEntry;
      outcomes[index] = shared ? Promise.resolve(shared[position] as SyncOutcome) : settle(applySyncAlone(entry));
      latest.set(entry.connectionId, outcomes[index]);
    }
    for (const index of repeats) {
      const entry = entries[index] as SyncEntry;
      outcomes[index] = (latest.get(entry.connectionId) as Promise<SyncOutcome>).then(() => settle(applySyncAlone(entry)));
      latest.set(entry.connectionId, outcomes[index]);
    }
    return outcomes;
  }, GROUPED_MAX_CALLS);

  const store: SqlMetadataStore = {
    name: sql.dialect === 'pglite' ? 'pglite' : 'postgres',
    schema,
    sql,
    raw: {
      dump: () =>
        run('dump', async () => {
          const tables: Record<string, unknown[]> = {};
          for (const name of STORE_TABLES) tables[name] = (await sql.query(`SELECT * FROM ${table(name)}`)).rows;
          return tables;
        }),
    },

    migrate() {
      return run('migrate', async () =>
        migrate(sql, schema, options.migrations ?? (await loadMigrations()), {
          ...(options.migrationLockTimeoutMs !== undefined ? { lockTimeoutMs: options.migrationLockTimeoutMs } : {}),
        }),
      );
    },

    async init() {
      initialised ??= store.migrate().catch((error: unknown) => {
        initialised = null;
        throw error;
      });
      await initialised;
    },

    close() {
      held?.handle.release();
      return run('close', () => sql.close());
    },

    // ── Connections ────────────────────────────────────────────────────────────────────────

    async saveConnection(input) {
      const connection = parseStoredConnection(input);
      await freeRows([connection.id]);
      await run('saveConnection', async () => {
        if (!(await upsertInTenant('connections', CONNECTION_COLUMNS, connectionParams(connection)))) {
          throw new ThreadlinkError('INVALID_INPUT', 'A connection cannot move to another tenant', { details: { connectionId: connection.id } });
        }
      });
    },

    async patchConnection(connectionId, patch) {
      const healthOnly = healthOnlyPatch(patch);
      await freeRows([connectionId]);
      if (healthOnly) {
        // The hot path (a push's lastPushAt, a job's lastSyncAt): one statement, merged by jsonb `||`
        // under the row lock the UPDATE takes, instead of BEGIN, SELECT … FOR UPDATE, UPDATE, COMMIT.
        return run('patchConnection', async () => {
          const result = await sql.query<ConnectionRow>(
            `UPDATE ${table('connections')} SET health = health || $2::jsonb, updated_at = COALESCE($3::bigint, updated_at) WHERE id = $1 RETURNING *`,
            [connectionId, toJsonParam(healthOnly.health), healthOnly.updatedAt ?? null],
          );
          const row = result.rows[0];
          return row ? connectionFromRow(row) : null;
        });
      }
      return run('patchConnection', () =>
        sql.transaction(async (tx) => {
          const current = await lockConnection(tx, connectionId);
          if (!current) return null;
          const next = applyConnectionPatch(current, patch);
          await writeConnection(tx, next);
          return next;
        }),
      );
    },

    getConnection(connectionId) {
      return run('getConnection', async () => {
        const result = await sql.query<ConnectionRow>(`SELECT * FROM ${table('connections')} WHERE id = $1`, [connectionId]);
        const row = result.rows[0];
        return row ? connectionFromRow(row) : null;
      });
    },

    listConnections(query: ConnectionQuery) {
      return run('listConnections', async () => {
        const conditions: string[] = [];
        const params: unknown[] = [];
        const add = (condition: (parameter: string) => string, value: unknown): void => {
          params.push(value);
          conditions.push(condition(`$${params.length}`));
        };
        if (query.tenantId !== undefined) add((p) => `tenant_id = ${p}`, query.tenantId);
        if (query.userId !== undefined) add((p) => `user_id = ${p}`, query.userId);
        if (query.provider !== undefined) add((p) => `provider = ${p}`, query.provider);
        if (query.accountEmail !== undefined) add((p) => `account_email = ${p}`, query.accountEmail.trim().toLowerCase());
        if (query.accountEmails !== undefined) {
          add(
            (p) => `account_email = ANY(${p}::text[])`,
            [...new Set(stringList(query.accountEmails, 'accountEmails').map((address) => address.trim().toLowerCase()))],
          );
        }
        if (query.status !== undefined) add((p) => `status = ANY(${p}::text[])`, stringList(query.status, 'status'));
        if (query.orgId !== undefined) add((p) => `org_id = ${p}`, query.orgId);
        if (query.subscriptionId !== undefined) {
          add((p) => `subscription -> 'items' @> jsonb_build_array(jsonb_build_object('id', ${p}::text))`, query.subscriptionId);
        }
        if (query.subscriptionIds !== undefined) {
          // One containment test per id, OR-ed: each is answered by the GIN index above, where an
          // ANY() over the ids or a jsonb_array_elements scan would read every connection.
          const wanted = [...new Set(stringList(query.subscriptionIds, 'subscriptionIds'))];
          const tests = wanted.map((id) => {
            params.push(JSON.stringify([{ id }]));
            return `subscription -> 'items' @> $${params.length}::jsonb`;
          });
          conditions.push(tests.length === 0 ? 'FALSE' : `(${tests.join(' OR ')})`);
        }
        const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
        const result = await sql.query<ConnectionRow>(`SELECT * FROM ${table('connections')} ${where} ORDER BY created_at, id`, params);
        return result.rows.map(connectionFromRow);
      });
    },

    // ── Organizations ──────────────────────────────────────────────────────────────────────

    async saveOrganization(input) {
      const organization = parseStoredOrganization(input);
      await run('saveOrganization', async () => {
        if (!(await upsertInTenant('organizations', ORGANIZATION_COLUMNS, organizationParams(organization)))) {
          throw new ThreadlinkError('INVALID_INPUT', 'An organization cannot move to another tenant', { details: { orgId: organization.id } });
        }
      });
    },

    async getOrganization(tenantId, orgId) {
      requireTenant(tenantId);
      return run('getOrganization', async () => {
        const result = await sql.query<OrganizationRow>(`SELECT * FROM ${table('organizations')} WHERE tenant_id = $1 AND id = $2`, [tenantId, orgId]);
        const row = result.rows[0];
        return row ? organizationFromRow(row) : null;
      });
    },

    async listOrganizations(tenantId) {
      requireTenant(tenantId);
      return run('listOrganizations', async () => {
        const result = await sql.query<OrganizationRow>(`SELECT * FROM ${table('organizations')} WHERE tenant_id = $1 ORDER BY created_at, id`, [tenantId]);
        return result.rows.map(organizationFromRow);
      });
    },

    async deleteOrganization(tenantId, orgId) {
      requireTenant(tenantId);
      return run('deleteOrganization', async () => {
        const result = await sql.query(`DELETE FROM ${table('organizations')} WHERE tenant_id = $1 AND id = $2`, [tenantId, orgId]);
        return result.rowCount > 0;
      });
    },

    async markOrganizationNeedsReauth(tenantId, orgId, input) {
      requireTenant(tenantId);
      return run('markOrganizationNeedsReauth', () =>
        sql.transaction(async (tx) => {
          // The org row's lock serialises concurrent callers (fifty mailbox jobs failing at once):
          // the first moves it, the others find it already needs_reauth.
          const org = await tx.query(
            `UPDATE ${table('organizations')} SET status = 'needs_reauth', updated_at = $3 WHERE tenant_id = $1 AND id = $2 AND status <> 'needs_reauth' RETURNING id`,
            [tenantId, orgId, input.at],
          );
          // Rows locked in id order first, as the push claim and applySync's shared commits lock them:
          // an UPDATE alone locks in whatever order its scan finds them, and could deadlock with those.
          const result = await tx.query<ConnectionRow>(
            `WITH locked AS MATERIALIZED (
               SELECT id FROM ${table('connections')}
                WHERE tenant_id = $1 AND org_id = $2 AND status NOT IN ('needs_reauth', 'disconnected')
                ORDER BY id COLLATE "C" FOR UPDATE
             )
             UPDATE ${table('connections')} c SET status = 'needs_reauth', health = c.health || $4::jsonb, updated_at = $3
               FROM locked l
              WHERE c.id = l.id AND c.status NOT IN ('needs_reauth', 'disconnected') RETURNING c.*`,
            [tenantId, orgId, input.at, toJsonParam({ lastErrorCode: input.errorCode, lastErrorAt: input.at })],
          );
          const connections = result.rows.map(connectionFromRow).sort((left, right) => left.createdAt - right.createdAt || compareIds(left.id, right.id));
          return { organizationChanged: org.rowCount > 0, connections };
        }),
      );
    },

    async listOrganizationsDue(query) {
      const limit = parseDueLimit(query.limit);
      return run('listOrganizationsDue', async () => {
        const result = await sql.query<OrganizationRow>(
          `SELECT * FROM ${table('organizations')} WHERE status = 'active' AND COALESCE(last_sync_at, -1) < $1
           ORDER BY COALESCE(last_sync_at, -1), id LIMIT $2`,
          [query.syncedBefore, limit],
        );
        return result.rows.map(organizationFromRow);
      });
    },

    // ── Sync ───────────────────────────────────────────────────────────────────────────────

    async applySync(connectionId: string, batch: SyncBatch, options?: ApplySyncOptions): Promise<ApplySyncResult> {
      // Everything that needs no database is checked before a connection is borrowed.
      const parsed = parseSyncBatch(batch);
      const entry: SyncEntry = { connectionId: String(connectionId), batch, parsed, threadIds: threadIdsToRead(batch) };
      syncsInFlight += 1;
      lastSyncAt = performance.now();
      try {
        const prepared = held;
        if (prepared && options?.prepared === prepared.handle && prepared.covers(entry)) {
          // Its transaction failed before it answered (nothing of it was written): the call alone.
          const outcome = await prepared.take(entry);
          return answerOf(outcome ?? (await settle(applySyncAlone(entry))));
        }
        // Another page of the held row, or one the opening did not read for: the held lock goes first.
        await freeRows([entry.connectionId]);
        if (parsed.upserts.length + parsed.deletes.length > GROUPED_MAX_CHANGES) return await applySyncAlone(entry);
        return answerOf(await applySyncGrouped(entry));
      } finally {
        syncsInFlight -= 1;
      }
    },

    prepareSync,

    listProviderMessageIds(connectionId) {
      return run('listProviderMessageIds', async () => {
        const result = await sql.query<{ provider_message_id: string }>(
          `SELECT provider_message_id FROM ${table('messages')} WHERE connection_id = $1 ORDER BY provider_message_id COLLATE "C"`,
          [connectionId],
        );
        return result.rows.map((row) => row.provider_message_id);
      });
    },

    listProviderMessageLabels(connectionId) {
      return run('listProviderMessageLabels', async () => {
        const result = await sql.query<{ provider_message_id: string; labels: string[] }>(
          `SELECT provider_message_id, labels FROM ${table('messages')} WHERE connection_id = $1 ORDER BY provider_message_id COLLATE "C"`,
          [connectionId],
        );
        return result.rows.map((row) => ({ providerMessageId: row.provider_message_id, labels: row.labels }));
      });
    },

    // ── Messages ───────────────────────────────────────────────────────────────────────────

    async getMessages(tenantId, messageIds) {
      requireTenant(tenantId);
      const ids = stringList(messageIds, 'messageIds');
      if (ids.length === 0) return [];
      return run('getMessages', async () => {
        const found = await readMessages(sql, 'm.tenant_id = $1 AND m.id = ANY($2::text[])', [tenantId, [...new Set(ids)]]);
        const byId = new Map(found.map((message) => [message.id, message]));
        return ids.flatMap((id) => {
          const message = byId.get(id);
          return message ? [structuredClone(message)] : [];
        });
      });
    },

    getMessageByProviderId(connectionId, providerMessageId) {
      return run('getMessageByProviderId', async () => {
        const found = await readMessages(sql, 'm.connection_id = $1 AND m.provider_message_id = $2', [connectionId, providerMessageId]);
        return found[0] ?? null;
      });
    },

    async listThreads(tenantId, threadIds, connectionIds) {
      requireTenant(tenantId);
      const ids = [...new Set(stringList(threadIds, 'threadIds'))];
      const visible = connectionIdList(connectionIds);
      if (ids.length === 0) return [];
      return run('listThreads', () =>
        readMessages(sql, `m.tenant_id = $1 AND m.thread_id = ANY($2::text[]) AND ${visibleTo('m.connection_id', 3)}`, [tenantId, ids, visible]),
      );
    },

    async findMessageIds(tenantId: string, query: MessageIndexQuery, page: PageRequest) {
      const { addresses, domains, referenceTokens: tokens, threadIds, limit, after } = parseIndexLookup(tenantId, query, page);
      // PostgreSQL rejects a parameter the statement never uses, so each branch brings its own.
      const params: unknown[] = [tenantId, after, limit + 1];
      const branches: string[] = [];
      const branch = (values: string[], select: (parameter: string) => string): void => {
        if (values.length === 0) return;
        params.push(values);
        branches.push(select(`$${params.length}::text[]`));
      };
      branch(addresses, (p) => `SELECT message_id AS id FROM ${table('participants')} WHERE tenant_id = $1 AND address = ANY(${p})`);
      branch(domains, (p) => `SELECT message_id AS id FROM ${table('participants')} WHERE tenant_id = $1 AND domain = ANY(${p})`);
      branch(tokens, (p) => `SELECT message_id AS id FROM ${table('reference_tokens')} WHERE tenant_id = $1 AND token = ANY(${p})`);
      branch(threadIds, (p) => `SELECT id FROM ${table('messages')} WHERE tenant_id = $1 AND thread_id = ANY(${p})`);
      if (branches.length === 0) return { ids: [], next: null };
      return run('findMessageIds', async () => {
        const result = await sql.query<{ id: string }>(
          `SELECT id FROM (${branches.join(' UNION ')}) hits
            WHERE $2::text IS NULL OR id > $2::text COLLATE "C"
            ORDER BY id LIMIT $3`,
          params,
        );
        const { items: ids, next } = keysetPage(
          result.rows.map((row) => row.id),
          limit,
          (id) => [id],
        );
        return { ids, next };
      });
    },

    async participantActivity(input) {
      const query = parseParticipantActivityQuery(input);
      // One pass over the tenant's participant rows joined to their messages: first one row per
      // (address, message) with the name that message gives (from, to, cc, bcc order), then per address.
      return run('participantActivity', async () => {
        const result = await sql.query<{
          address: string;
          name: string | null;
          received: string | number;
          sent: string | number;
          last_received_at: string | number | null;
          last_sent_at: string | number | null;
        }>(
          `WITH counted AS (
             SELECT p.address, p.message_id, m.direction, m.received_at,
                    (array_agg(NULLIF(p.display_name, '')
                       ORDER BY CASE p.role WHEN 'from' THEN 0 WHEN 'to' THEN 1 WHEN 'cc' THEN 2 ELSE 3 END, p.position)
                       FILTER (WHERE NULLIF(p.display_name, '') IS NOT NULL))[1] AS name
               FROM ${table('participants')} p
               JOIN ${table('messages')} m ON m.tenant_id = p.tenant_id AND m.id = p.message_id
              WHERE p.tenant_id = $1 AND ${visibleTo('p.connection_id', 2)}
                AND ($3::double precision IS NULL OR m.received_at >= $3::double precision)
                AND ((m.direction = 'inbound' AND p.role = 'from') OR (m.direction = 'outbound' AND p.role IN ('to', 'cc', 'bcc')))
                AND NOT (p.address = ANY($4::text[])) AND NOT (p.domain = ANY($5::text[]))
                AND ($7::text[] IS NULL OR p.address = ANY($7::text[]))
              GROUP BY p.address, p.message_id, m.direction, m.received_at
           ), tallies AS (
             SELECT address,
                    (array_agg(name ORDER BY received_at DESC, message_id COLLATE "C" DESC) FILTER (WHERE name IS NOT NULL))[1] AS name,
                    count(*) FILTER (WHERE direction = 'inbound') AS received,
                    count(*) FILTER (WHERE direction = 'outbound') AS sent,
                    max(received_at) FILTER (WHERE direction = 'inbound') AS last_received_at,
                    max(received_at) FILTER (WHERE direction = 'outbound') AS last_sent_at
               FROM counted GROUP BY address
           )
           SELECT * FROM tallies
            ORDER BY least(received, sent) DESC, received + sent DESC, greatest(last_received_at, last_sent_at) DESC, address COLLATE "C"
            LIMIT $6`,
          [query.tenantId, query.connectionIds, query.since, query.excludeAddresses, query.excludeDomains, query.limit, query.addresses],
        );
        const time = (value: string | number | null): number | null => (value === null ? null : Number(value));
        return result.rows.map((row) => ({
          address: row.address,
          name: row.name,
          received: Number(row.received),
          sent: Number(row.sent),
          lastReceivedAt: time(row.last_received_at),
          lastSentAt: time(row.last_sent_at),
        }));
      });
    },

    // ── Links ──────────────────────────────────────────────────────────────────────────────

    async addLinks(tenantId, input) {
      requireTenant(tenantId);
      const links = parseLinksToAdd(input);
      return run('addLinks', () => insertLinks(sql, tenantId, links));
    },

    async saveManualLink(tenantId, input) {
      requireTenant(tenantId);
      const link = parseManualLink(input);
      await run('saveManualLink', async () => {
        // A user's decision replaces whatever row the pair had (an automatic link or an earlier decision).
        const result = await sql.query(
          insertLinksOfTenant(
            `DO UPDATE SET
             record_label = EXCLUDED.record_label, rule = EXCLUDED.rule, reason = EXCLUDED.reason,
             confidence = EXCLUDED.confidence, manual = EXCLUDED.manual, suppressed = EXCLUDED.suppressed,
             created_at = EXCLUDED.created_at`,
          ),
          [tenantId, toJsonParam([linkJson(link)])],
        );
        if (result.rowCount === 0) throw new ThreadlinkError('NOT_FOUND', 'No such message', { details: { messageId: link.messageId } });
      });
    },

    async removeLink(tenantId, messageId, recordInput) {
      requireTenant(tenantId);
      const record = parseRecordRef(recordInput);
      return run('removeLink', async () => {
        const result = await sql.query(
          `DELETE FROM ${table('record_links')}
            WHERE tenant_id = $1 AND message_id = $2 AND record_type = $3 AND record_id = $4 AND manual`,
          [tenantId, messageId, record.type, record.id],
        );
        return result.rowCount > 0;
      });
    },

    // ── Label directory ────────────────────────────────────────────────────────────────────

    async saveLabels(connectionId, input) {
      const labels = parseLabelDirectory(input);
      await run('saveLabels', () =>
        sql.transaction(async (tx) => {
          // The connection row lock orders concurrent refreshes of one directory (last writer wins whole).
          const connection = await lockConnection(tx, connectionId);
          if (!connection) throw new ThreadlinkError('CONNECTION_NOT_FOUND', 'No such connection', { details: { connectionId } });
          await tx.query(`DELETE FROM ${table('labels')} WHERE connection_id = $1`, [connectionId]);
          if (labels.length === 0) return;
          await tx.query(
            `INSERT INTO ${table('labels')} (tenant_id, connection_id, id, name, kind)
             SELECT $1, $2, x.id, x.name, x.kind FROM jsonb_to_recordset($3::jsonb) AS x(id text, name text, kind text)`,
            [connection.tenantId, connectionId, toJsonParam(labels)],
          );
        }),
      );
    },

    async listLabels(tenantId, connectionIds) {
      requireTenant(tenantId);
      const ids = [...new Set(stringList(connectionIds, 'connectionIds'))];
      if (ids.length === 0) return [];
      return run('listLabels', async () => {
        const result = await sql.query<{ connection_id: string; id: string; name: string; kind: ConnectionLabel['kind'] }>(
          `SELECT connection_id, id, name, kind FROM ${table('labels')}
            WHERE tenant_id = $1 AND connection_id = ANY($2::text[]) ORDER BY connection_id, id`,
          [tenantId, ids],
        );
        return result.rows.map((row): ConnectionLabel => ({ connectionId: row.connection_id, id: row.id, name: row.name, kind: row.kind }));
      });
    },

    // ── Timelines ──────────────────────────────────────────────────────────────────────────

    async timeline(input: TimelineQuery): Promise<ThreadPage> {
      const query = parseTimelineQuery(input);
      const { record, after, connectionIds: visible } = query;
      // A thread's activity is the newest message the panel shows: every visible message of the
      // thread for whole-thread panels, only the linked ones otherwise.
      const threadsSql = query.wholeThreads
        ? `SELECT m.thread_id, max(m.received_at) AS last_activity_at FROM ${table('messages')} m
            WHERE m.tenant_id = $1 AND ${visibleTo('m.connection_id', 4)} AND m.thread_id IN (SELECT thread_id FROM hits)
            GROUP BY m.thread_id`
        : `SELECT thread_id, max(received_at) AS last_activity_at FROM hits GROUP BY thread_id`;
      return run('timeline', async () => {
        const page = await sql.query<{ thread_id: string; last_activity_at: number | string }>(
          `WITH hits AS (
             SELECT m.thread_id, m.received_at FROM ${table('record_links')} l
               JOIN ${table('messages')} m ON m.tenant_id = l.tenant_id AND m.id = l.message_id
              WHERE l.tenant_id = $1 AND l.record_type = $2 AND l.record_id = $3 AND NOT l.suppressed
                AND ${visibleTo('m.connection_id', 4)}
           ), threads AS (${threadsSql})
           SELECT thread_id, last_activity_at FROM threads
            WHERE $5::bigint IS NULL OR (last_activity_at, thread_id) < ($5::bigint, $6::text COLLATE "C")
            ORDER BY last_activity_at DESC, thread_id DESC
            LIMIT $7`,
          [query.tenantId, record.type, record.id, visible, after?.[0] ?? null, after?.[1] ?? null, query.limit + 1],
        );
        const { items: threads, next } = keysetPage(
          page.rows.map((row) => ({ threadId: row.thread_id, lastActivityAt: Number(row.last_activity_at) })),
          query.limit,
          (thread) => [thread.lastActivityAt, thread.threadId],
        );
        if (threads.length === 0) return { threads: [], next: null };
        const linkedOnly = query.wholeThreads
          ? ''
          : `AND EXISTS (SELECT 1 FROM ${table('record_links')} l WHERE l.tenant_id = m.tenant_id AND l.message_id = m.id
                           AND l.record_type = $4 AND l.record_id = $5 AND NOT l.suppressed)`;
        const messages = await readMessages(sql, `m.tenant_id = $1 AND m.thread_id = ANY($2::text[]) AND ${visibleTo('m.connection_id', 3)} ${linkedOnly}`, [
          query.tenantId,
          threads.map((thread) => thread.threadId),
          visible,
          ...(query.wholeThreads ? [] : [record.type, record.id]),
        ]);
        const byThread = new Map<string, StoredMessage[]>();
        for (const message of messages) {
          const list = byThread.get(message.threadId);
          if (list) list.push(message);
          else byThread.set(message.threadId, [message]);
        }
        return { threads: threads.map((thread) => ({ ...thread, messages: byThread.get(thread.threadId) ?? [] })), next };
      });
    },

    // ── Coordination ───────────────────────────────────────────────────────────────────────

    async acquireLease(request: LeaseRequest) {
      checkLeaseRequest(request);
      return run('acquireLease', async () => {
        // One statement decides, atomically under the key's unique index: a free key is inserted,
        // an expired lease is taken over, a live one is left alone — its own owner's too, since one
        // engine runs several jobs under one owner name (the WHERE makes the conflict update a
        // no-op, and no row comes back).
        const result = await sql.query(
          `INSERT INTO ${table('leases')} AS lease (key, owner, expires_at) VALUES ($1, $2, $3)
           ON CONFLICT (key) DO UPDATE SET owner = EXCLUDED.owner, expires_at = EXCLUDED.expires_at
            WHERE lease.expires_at <= $4`,
          [request.key, request.owner, request.now + request.ttlMs, request.now],
        );
        return result.rowCount > 0;
      });
    },

    async renewLease(request: LeaseRequest) {
      checkLeaseRequest(request);
      return run('renewLease', async () => {
        // An expired lease is not renewable even if nobody took it yet: its holder was presumed dead.
        const result = await sql.query(`UPDATE ${table('leases')} SET expires_at = $3 WHERE key = $1 AND owner = $2 AND expires_at > $4`, [
          request.key,
          request.owner,
          request.now + request.ttlMs,
          request.now,
        ]);
        return result.rowCount > 0;
      });
    },

    async releaseLease(key, owner) {
      await run('releaseLease', () => sql.query(`DELETE FROM ${table('leases')} WHERE key = $1 AND owner = $2`, [key, owner]));
    },

    async claimOnce(key, expiresAt, now) {
      checkClaimRequest(key, expiresAt, now);
      return run('claimOnce', async () => {
        claimsSinceSweep += 1;
        if (claimsSinceSweep >= 1000) {
          // Dedupe keys would grow without bound: sweep the expired ones now and then, not on a timer.
          claimsSinceSweep = 0;
          await sql.query(`DELETE FROM ${table('claims')} WHERE expires_at <= $1`, [now]);
        }
        const result = await sql.query(
          `INSERT INTO ${table('claims')} AS claim (key, expires_at) VALUES ($1, $2)
           ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE claim.expires_at <= $3`,
          [key, expiresAt, now],
        );
        return result.rowCount > 0;
      });
    },

    // ── Ingestion policy ───────────────────────────────────────────────────────────────────

    async getPolicies(tenantId, connectionId) {
      requireTenant(tenantId);
      return run('getPolicies', async () => {
        const result = await sql.query<{ connection_id: string; policy: unknown }>(
          `SELECT connection_id, policy FROM ${table('ingestion_policies')} WHERE tenant_id = $1 AND connection_id = ANY($2::text[])`,
          [tenantId, connectionId === undefined ? [''] : ['', connectionId]],
        );
        const tenant = result.rows.find((row) => row.connection_id === '');
        const own = connectionId === undefined ? undefined : result.rows.find((row) => row.connection_id === connectionId);
        return storedPolicies(tenant?.policy, own?.policy);
      });
    },

    getSyncContext(connectionId) {
      return run('getSyncContext', async () => {
        // One statement: the connection row with its tenant's and its own policy (primary-key look-ups).
        const result = await sql.query<ConnectionRow & { tenant_policy: unknown; connection_policy: unknown }>(
          `SELECT c.*, ${policiesOf('c')}
           FROM ${table('connections')} c WHERE c.id = $1`,
          [connectionId],
        );
        const row = result.rows[0];
        if (!row) return null;
        return { connection: connectionFromRow(row), policies: storedPolicies(row.tenant_policy, row.connection_policy) };
      });
    },

    async savePolicy(tenantId, connectionId, input) {
      const policy = parsePolicyToSave(tenantId, connectionId, input);
      await run('savePolicy', () =>
        sql.transaction(async (tx) => {
          if (connectionId !== null) {
            // Locked so a purgeConnection cannot slip between the check and the write (and leave an orphan row).
            const connection = await lockConnection(tx, connectionId);
            if (!connection || connection.tenantId !== tenantId) {
              throw new ThreadlinkError('CONNECTION_NOT_FOUND', 'No such connection', { details: { connectionId } });
            }
          }
          await tx.query(
            `INSERT INTO ${table('ingestion_policies')} (tenant_id, connection_id, policy) VALUES ($1, $2, $3::jsonb)
             ON CONFLICT (tenant_id, connection_id) DO UPDATE SET policy = EXCLUDED.policy`,
            [tenantId, connectionId ?? '', JSON.stringify(policy)],
          );
        }),
      );
    },

    async purgeMessages(tenantId, messageIds) {
      const ids = parsePurgeIds(tenantId, messageIds);
      if (ids.length === 0) return { messageIds: [], links: 0 };
      return run('purgeMessages', () =>
        sql.transaction(async (tx) => {
          const children = (name: string): string => `DELETE FROM ${table(name)} WHERE tenant_id = $1 AND message_id = ANY($2::text[])`;
          const links = (await tx.query(children('record_links'), [tenantId, ids])).rowCount;
          await tx.query(children('participants'), [tenantId, ids]);
          await tx.query(children('reference_tokens'), [tenantId, ids]);
          const removed = await tx.query<{ id: string }>(`DELETE FROM ${table('messages')} WHERE tenant_id = $1 AND id = ANY($2::text[]) RETURNING id`, [
            tenantId,
            ids,
          ]);
          const gone = new Set(removed.rows.map((row) => row.id));
          return { messageIds: ids.filter((id) => gone.has(id)), links };
        }),
      );
    },

    async releaseClaim(key) {
      await run('releaseClaim', () => sql.query(`DELETE FROM ${table('claims')} WHERE key = $1`, [key]));
    },

    async claimPushes(claims) {
      return claimPushes(claims);
    },

    async claimPushesForAccounts(claims, accounts) {
      return claimPushesForAccounts(claims, accounts);
    },

    async acquireSyncLeases(requests) {
      return acquireSyncLeases(requests);
    },

    async claimPush(claim) {
      checkClaimRequest(claim.key, claim.expiresAt, claim.now);
      const health = claim.lastPushAt === null ? null : parseHealthPatch({ lastPushAt: claim.lastPushAt });
      if (held !== null) await freeRows([claim.connectionId]);
      return run('claimPush', async () => {
        claimsSinceSweep += 1;
        if (claimsSinceSweep >= 1000) {
          claimsSinceSweep = 0;
          await sql.query(`DELETE FROM ${table('claims')} WHERE expires_at <= $1`, [claim.now]);
        }
        // One statement, so one transaction: the UPDATE runs only when the INSERT won the claim
        // (data-modifying CTEs share one snapshot; the update reads the claim's RETURNING).
        const result = await sql.query<{ claimed: string | number }>(
          `WITH claimed AS (
             INSERT INTO ${table('claims')} AS claim (key, expires_at) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE claim.expires_at <= $3
             RETURNING 1
           ), pushed AS (
             UPDATE ${table('connections')} SET health = health || $5::jsonb
             WHERE id = $4 AND $5::jsonb IS NOT NULL AND EXISTS (SELECT 1 FROM claimed)
             RETURNING 1
           )
           SELECT (SELECT count(*) FROM claimed) AS claimed, (SELECT count(*) FROM pushed) AS pushed`,
          [claim.key, claim.expiresAt, claim.now, claim.connectionId, health === null ? null : toJsonParam(health)],
        );
        return Number(result.rows[0]?.claimed ?? 0) > 0;
      });
    },

    // ── Offboarding ────────────────────────────────────────────────────────────────────────

    async purgeConnection(connectionId) {
      await freeRows([connectionId]);
      return run('purgeConnection', () =>
        sql.transaction(async (tx) => {
          const report: PurgeReport = { connections: 0, messages: 0, links: 0, other: 0 };
          // Locking the row first waits out an applySync in flight instead of racing it.
          const connection = await lockConnection(tx, connectionId);
          const count = async (statement: string, params: unknown[]): Promise<number> => (await tx.query(statement, params)).rowCount;
          // Children through their primary key (tenant_id, message_id), then the messages.
          const children = (name: string): string =>
            `DELETE FROM ${table(name)} c USING ${table('messages')} m
              WHERE m.connection_id = $1 AND c.tenant_id = m.tenant_id AND c.message_id = m.id`;
          report.links = await count(children('record_links'), [connectionId]);
          await count(children('participants'), [connectionId]);
          await count(children('reference_tokens'), [connectionId]);
          report.messages = await count(`DELETE FROM ${table('messages')} WHERE connection_id = $1`, [connectionId]);
          report.other += await count(`DELETE FROM ${table('labels')} WHERE connection_id = $1`, [connectionId]);
          if (connection) report.connections = await count(`DELETE FROM ${table('connections')} WHERE id = $1`, [connectionId]);
          report.other += await count(`DELETE FROM ${table('ingestion_policies')} WHERE connection_id = $1`, [connectionId]);
          // Lease and claim keys name their connection by a `:` segment (`connection:<id>`).
          report.other += await count(`DELETE FROM ${table('leases')} WHERE $1 = ANY(string_to_array(key, ':'))`, [connectionId]);
          report.other += await count(`DELETE FROM ${table('claims')} WHERE $1 = ANY(string_to_array(key, ':'))`, [connectionId]);
          return report;
        }),
      );
    },

    exportConnection(connectionId): AsyncIterable<ExportRecord> {
      // Batched keyset reads: memory stays flat however large the mailbox. Not one snapshot —
      // a sync running meanwhile may show up partly — so callers export after disconnecting.
      return {
        async *[Symbol.asyncIterator]() {
          const connection = await store.getConnection(connectionId);
          if (!connection) return;
          yield { kind: 'connection', data: { ...connection, sealedTokens: '[sealed]' } };
          const scope = [connection.tenantId, connectionId];
          // A directory is a few hundred rows at most (Gmail caps user labels at 10,000): one read.
          for (const data of await store.listLabels(connection.tenantId, [connectionId])) yield { kind: 'label', data };

          let afterMessage: [number, string] | null = null;
          for (;;) {
            const position: [number, string] | null = afterMessage;
            const batch: StoredMessage[] = await run('exportConnection', () =>
              readMessages(
                sql,
                `m.tenant_id = $1 AND m.connection_id = $2
                 AND ($3::bigint IS NULL OR (m.received_at, m.id) > ($3::bigint, $4::text COLLATE "C"))`,
                [...scope, position?.[0] ?? null, position?.[1] ?? null],
                `ORDER BY m.received_at, m.id LIMIT ${exportBatchSize}`,
              ),
            );
            for (const { links: _links, ...message } of batch) yield { kind: 'message', data: message };
            const last = batch.at(-1);
            if (!last || batch.length < exportBatchSize) break;
            afterMessage = [last.receivedAt, last.id];
          }

          let afterLink: [number, string, string, string] | null = null;
          for (;;) {
            const position: [number, string, string, string] | null = afterLink;
            const rows: LinkRow[] = await run('exportConnection', async () => {
              const result = await sql.query<LinkRow>(
                `SELECT l.*, m.received_at AS message_received_at FROM ${table('record_links')} l
                   JOIN ${table('messages')} m ON m.tenant_id = l.tenant_id AND m.id = l.message_id
                  WHERE m.tenant_id = $1 AND m.connection_id = $2
                    AND ($3::bigint IS NULL OR (m.received_at, m.id, l.record_type, l.record_id)
                         > ($3::bigint, $4::text COLLATE "C", $5::text COLLATE "C", $6::text COLLATE "C"))
                  ORDER BY m.received_at, m.id, l.record_type, l.record_id
                  LIMIT ${exportBatchSize}`,
                [...scope, position?.[0] ?? null, position?.[1] ?? null, position?.[2] ?? null, position?.[3] ?? null],
              );
              return result.rows;
            });
            for (const row of rows) yield { kind: 'link', data: linkFromRow(row) };
            const last = rows.at(-1);
            if (!last || rows.length < exportBatchSize) break;
            afterLink = [Number(last.message_received_at), last.message_id, last.record_type, last.record_id];
          }
        },
      };
    },
  };
  return store;
}
