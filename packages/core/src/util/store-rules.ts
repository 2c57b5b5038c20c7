// Rules every MetadataStore backend (memory, Postgres, …) applies identically, so the
// conformance suite can hold them all to one behaviour: which input is rejected with which
// code, how links are de-duplicated, which keys belong to a connection, what a keyset cursor
// looks like. Backends own storage; these functions own the contract details.
import type { z } from 'zod';
import {
  Connection,
  ConnectionHealthState,
  FORBIDDEN_CONTENT_KEYS,
  LabelRef,
  MessageMeta,
  RecordLink,
  type ConnectionStatus,
  type Participant,
  type RecordRef,
} from '../domain/schemas.js';
import { Organization } from '../domain/organization.js';
import { ThreadlinkError } from '../errors.js';
import type { ConnectionPatch, LeaseRequest } from '../ports/metadata-store.js';
import { domainOf } from './headers.js';

const forbiddenKeys = new Set<string>(FORBIDDEN_CONTENT_KEYS);

/**
 * Parses input at the store boundary. A content-carrying key (body, snippet, bodyPreview, …) at
 * any depth is CONTENT_FORBIDDEN; any other schema failure is INVALID_INPUT. The zod error is
 * not attached as `cause` and no value is quoted, so a rejected body never reaches a log.
 */
export function parseStoreInput<Schema extends z.ZodType>(schema: Schema, value: unknown, what: string): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const contentKeys = result.error.issues.flatMap((issue) => (issue.code === 'unrecognized_keys' ? issue.keys.filter((key) => forbiddenKeys.has(key)) : []));
  if (contentKeys.length > 0) {
    throw new ThreadlinkError('CONTENT_FORBIDDEN', `${what} carries message content (${[...new Set(contentKeys)].join(', ')}); only metadata is stored`, {
      details: { keys: [...new Set(contentKeys)].join(',') },
    });
  }
  const paths = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.code}`);
  throw new ThreadlinkError('INVALID_INPUT', `Invalid ${what}: ${paths.slice(0, 5).join('; ')}`, {
    details: { issues: paths.length },
  });
}

export const parseStoredMessage = (value: unknown): MessageMeta => parseStoreInput(MessageMeta, value, 'message');
export const parseStoredLink = (value: unknown): RecordLink => parseStoreInput(RecordLink, value, 'record link');
export const parseStoredConnection = (value: unknown): Connection => parseStoreInput(Connection, value, 'connection');

export const parseStoredOrganization = (value: unknown): Organization => parseStoreInput(Organization, value, 'organization');

/** `listOrganizationsDue`'s limit: an integer 1..1000 (INVALID_INPUT otherwise). */
export function parseDueLimit(limit: unknown): number {
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new ThreadlinkError('INVALID_INPUT', 'limit must be an integer from 1 to 1000', { details: { field: 'limit' } });
  }
  return limit;
}

/** A label directory as saveLabels takes it: each entry a LabelRef, an id twice keeps the last, ordered by id (binary). */
export function parseLabelDirectory(value: unknown): LabelRef[] {
  if (!Array.isArray(value)) throw new ThreadlinkError('INVALID_INPUT', 'A label directory must be an array');
  const byId = new Map<string, LabelRef>();
  for (const entry of value) {
    const label = parseStoreInput(LabelRef, entry, 'label');
    byId.set(label.id, label);
  }
  return [...byId.values()].sort((left, right) => compareIds(left.id, right.id));
}

const FROZEN_CONNECTION_FIELDS = new Set(['id', 'tenantId', 'provider', 'createdAt']);

/** The statuses of a connection a push is taken for: webhook intake's look-up and `claimPushesForAccounts`. */
export const PUSH_TAKING_STATUSES: readonly ConnectionStatus[] = ['live', 'backfilling', 'connecting'];

/**
 * Built once: zod compiles a schema's fast path on its first parse, and a `.partial()` made per call
 * recompiled it for every push (`claimPush`) and every commit (issue 21's CPU profile).
 */
const HealthPatch = ConnectionHealthState.partial();
/** A connection's fields, each optional (applyConnectionPatch): built once for the same reason. */
const ConnectionChanges = Connection.partial();

/** Health fields of a patch: known keys only, each valid; undefined ones dropped (left alone). */
export function parseHealthPatch(value: unknown): Partial<ConnectionHealthState> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ThreadlinkError('INVALID_INPUT', 'A health patch must be an object');
  const defined = Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined));
  // Undefined keys were dropped above, so every key present holds a value.
  return parseStoreInput(HealthPatch, defined, 'connection health') as Partial<ConnectionHealthState>;
}

/**
 * The connection after a patch (ConnectionPatch's rules), validated: top-level fields replace,
 * `health` merges field by field, identity fields may not move, undefined leaves a field alone.
 * Backends call it on the row they hold locked (or, in memory, without awaiting in between), so
 * the merge is against the stored health, never a caller's stale copy.
 */
export function applyConnectionPatch(existing: Connection, patch: ConnectionPatch, cursor?: string | null): Connection {
  if (typeof patch !== 'object' || patch === null) throw new ThreadlinkError('INVALID_INPUT', 'A connection patch must be an object');
  const changed: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (FROZEN_CONNECTION_FIELDS.has(field) && value !== (existing as Record<string, unknown>)[field]) {
      throw new ThreadlinkError('INVALID_INPUT', `A connection's ${field} cannot change`);
    }
    changed[field] = field === 'health' ? { ...existing.health, ...parseHealthPatch(value) } : value;
  }
  if (cursor !== undefined) changed.cursor = cursor;
  // `existing` is a stored connection, valid since it was written: only the fields the patch sets
  // are checked (the whole connection was re-parsed for every push's lastPushAt and every commit,
  // issue 21's CPU profile). A strict schema, so an unknown field is refused as before.
  // Keys the patch left undefined were dropped above, so no field of `existing` is overwritten with undefined.
  return { ...existing, ...parseStoreInput(ConnectionChanges, changed, 'connection') } as Connection;
}

/** Identity of a record inside a tenant: type and id (the label is display only). */
export function recordKey(record: RecordRef): string {
  return `${record.type}\u0000${record.id}`;
}

/** Identity of a link: one link per (message, record). */
export function linkKey(link: Pick<RecordLink, 'messageId' | 'record'>): string {
  return `${link.messageId}\u0000${recordKey(link.record)}`;
}

/** Every distinct participant address of a message (from, to, cc, bcc, reply-to), lower case. */
export function messageAddresses(message: Pick<MessageMeta, 'from' | 'to' | 'cc' | 'bcc' | 'replyTo'>): string[] {
  const participants: Array<Participant | null> = [message.from, ...message.to, ...message.cc, ...message.bcc, ...message.replyTo];
  const addresses = new Set<string>();
  for (const participant of participants) if (participant) addresses.add(participant.address.toLowerCase());
  return [...addresses];
}

/** Every distinct participant domain of a message. */
export function messageDomains(message: Pick<MessageMeta, 'from' | 'to' | 'cc' | 'bcc' | 'replyTo'>): string[] {
  return [...new Set(messageAddresses(message).map(domainOf))];
}

/**
 * One link per (message, record): when rules produce several (address and domain both hit),
 * the highest confidence wins, the first on a tie. Backends need this before a multi-row
 * `INSERT … ON CONFLICT`, which may not touch one row twice.
 */
export function dedupeLinks(links: RecordLink[]): RecordLink[] {
  const byKey = new Map<string, RecordLink>();
  for (const link of links) {
    const key = linkKey(link);
    const existing = byKey.get(key);
    if (!existing || link.confidence > existing.confidence) byKey.set(key, link);
  }
  return [...byKey.values()];
}

/**
 * Lease and claim keys name a connection by a `:`-separated segment equal to its id
 * (`connection:<id>`, `sync:<id>`, `dedupe:<id>:<notification>`); purgeConnection removes those.
 */
export function keyNamesConnection(key: string, connectionId: string): boolean {
  return key.split(':').includes(connectionId);
}

/** A lease or claim is live while `now < expiresAt`; at `expiresAt` it is gone. */
export function isExpired(expiresAt: number, now: number): boolean {
  return now >= expiresAt;
}

/** Binary (code unit) order, the same as Postgres `COLLATE "C"`: ids sort identically everywhere. */
export function compareIds(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0;
}

/** An opaque keyset cursor: the sort key of the last row returned. */
export function encodeKeysetCursor(values: ReadonlyArray<string | number>): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
}

/** Decodes a cursor made by encodeKeysetCursor with the given shape; anything else is INVALID_INPUT. */
export function decodeKeysetCursor<const Shape extends ReadonlyArray<'string' | 'number'>>(
  cursor: string,
  shape: Shape,
): { [Index in keyof Shape]: Shape[Index] extends 'number' ? number : string } {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    values = undefined;
  }
  const valid =
    Array.isArray(values) &&
    values.length === shape.length &&
    shape.every((kind, index) => (kind === 'number' ? Number.isFinite(values[index]) : typeof values[index] === 'string'));
  if (!valid) throw new ThreadlinkError('INVALID_INPUT', 'Malformed page cursor');
  return values as { [Index in keyof Shape]: Shape[Index] extends 'number' ? number : string };
}

/** Page sizes are positive integers; stores cap them so one call cannot read a whole tenant. */
export const MAX_PAGE_LIMIT = 1000;

export function assertPageLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw new ThreadlinkError('INVALID_INPUT', `Page limit must be an integer between 1 and ${MAX_PAGE_LIMIT}`);
  }
}

/** A lease request every backend accepts: key, owner, positive ttlMs and the caller's now. */
export function checkLeaseRequest(request: LeaseRequest): void {
  const valid =
    typeof request === 'object' &&
    request !== null &&
    typeof request.key === 'string' &&
    request.key !== '' &&
    typeof request.owner === 'string' &&
    request.owner !== '' &&
    Number.isFinite(request.ttlMs) &&
    request.ttlMs > 0 &&
    Number.isFinite(request.now);
  if (!valid) throw new ThreadlinkError('INVALID_INPUT', 'A lease needs a key, an owner, a positive ttlMs and now');
}

/** A one-time claim every backend accepts: a key, expiresAt and now. */
export function checkClaimRequest(key: string, expiresAt: number, now: number): void {
  if (typeof key !== 'string' || key === '' || !Number.isFinite(expiresAt) || !Number.isFinite(now)) {
    throw new ThreadlinkError('INVALID_INPUT', 'A claim needs a key, expiresAt and now');
  }
}
