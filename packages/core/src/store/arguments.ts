// Argument checks every MetadataStore backend runs before it touches storage: what the schemas
// do not cover alone (a tenant id, plain id lists, index and timeline queries, which links a
// method takes), so every backend refuses the same input with the same code and message.
import { type RecordLink, RecordRef } from '../domain/schemas.js';
import { ThreadlinkError } from '../errors.js';
import type { MessageIndexQuery, PageRequest, ParticipantActivity, ParticipantActivityQuery, TimelineQuery } from '../ports/metadata-store.js';
import { assertPageLimit, decodeKeysetCursor, linkKey, parseStoredLink, parseStoreInput } from '../util/store-rules.js';

export function requireTenant(tenantId: string): void {
  if (typeof tenantId !== 'string' || tenantId === '') throw new ThreadlinkError('INVALID_INPUT', 'tenantId is required');
}

/** A list of strings (a copy); undefined is an empty list, anything else INVALID_INPUT. */
export function stringList(values: readonly string[] | undefined, what: string): string[] {
  if (values === undefined) return [];
  if (!Array.isArray(values) || values.some((value) => typeof value !== 'string')) {
    throw new ThreadlinkError('INVALID_INPUT', `${what} must be an array of strings`);
  }
  return [...values];
}

/** A visibility filter: undefined (null here) is every connection of the tenant; a list, only those. */
export function connectionIdList(connectionIds: readonly string[] | undefined): string[] | null {
  return connectionIds === undefined ? null : stringList(connectionIds, 'connectionIds');
}

export const parseRecordRef = (value: unknown): RecordRef => parseStoreInput(RecordRef, value, 'record');

/**
 * addLinks' input: automatic links only (a manual one is INVALID_INPUT), one per (message, record)
 * — the first entry of a pair wins, as if the links were inserted one by one.
 */
export function parseLinksToAdd(links: RecordLink[]): RecordLink[] {
  if (!Array.isArray(links)) throw new ThreadlinkError('INVALID_INPUT', 'addLinks takes an array of links');
  const parsed = links.map(parseStoredLink);
  if (parsed.some((link) => link.manual)) throw new ThreadlinkError('INVALID_INPUT', 'addLinks takes automatic links only');
  const seen = new Set<string>();
  return parsed.filter((link) => !seen.has(linkKey(link)) && seen.add(linkKey(link)));
}

/** saveManualLink's input: a user's decision, so `manual: true` (else INVALID_INPUT). */
export function parseManualLink(link: RecordLink): RecordLink {
  const parsed = parseStoredLink(link);
  if (!parsed.manual) throw new ThreadlinkError('INVALID_INPUT', 'saveManualLink takes manual links only (manual: true)');
  return parsed;
}

/** findMessageIds' input, normalised: addresses and domains lower case and trimmed, `after` the last id of the previous page. */
export interface IndexLookup {
  addresses: string[];
  domains: string[];
  referenceTokens: string[];
  threadIds: string[];
  limit: number;
  after: string | null;
}

export function parseIndexLookup(tenantId: string, query: MessageIndexQuery, page: PageRequest): IndexLookup {
  requireTenant(tenantId);
  assertPageLimit(page.limit);
  return {
    addresses: stringList(query.addresses, 'addresses').map((address) => address.trim().toLowerCase()),
    domains: stringList(query.domains, 'domains').map((domain) => domain.trim().toLowerCase()),
    referenceTokens: stringList(query.referenceTokens, 'referenceTokens'),
    threadIds: stringList(query.threadIds, 'threadIds'),
    limit: page.limit,
    after: page.after ? decodeKeysetCursor(page.after, ['string'] as const)[0] : null,
  };
}

/** timeline's input, checked: `after` is the (lastActivityAt, threadId) of the previous page's last thread. */
export interface TimelineLookup {
  tenantId: string;
  record: RecordRef;
  limit: number;
  after: readonly [number, string] | null;
  /** null: every connection of the tenant. */
  connectionIds: string[] | null;
  wholeThreads: boolean;
}

export function parseTimelineQuery(query: TimelineQuery): TimelineLookup {
  requireTenant(query.tenantId);
  const record = parseRecordRef(query.record);
  assertPageLimit(query.limit);
  return {
    tenantId: query.tenantId,
    record,
    limit: query.limit,
    after: query.after ? decodeKeysetCursor(query.after, ['number', 'string'] as const) : null,
    connectionIds: connectionIdList(query.connectionIds),
    wholeThreads: query.wholeThreads,
  };
}

/** participantActivity's input, checked and normalised (lists lower case and trimmed). */
export interface ParticipantActivityLookup {
  tenantId: string;
  /** null: every connection of the tenant. */
  connectionIds: string[] | null;
  since: number | null;
  /** null: every address. */
  addresses: string[] | null;
  excludeAddresses: string[];
  excludeDomains: string[];
  limit: number;
}

export function parseParticipantActivityQuery(query: ParticipantActivityQuery): ParticipantActivityLookup {
  if (typeof query !== 'object' || query === null) throw new ThreadlinkError('INVALID_INPUT', 'participantActivity takes a query object');
  requireTenant(query.tenantId);
  assertPageLimit(query.limit);
  if (query.since !== undefined && (typeof query.since !== 'number' || !Number.isFinite(query.since))) {
    throw new ThreadlinkError('INVALID_INPUT', 'since must be a time in epoch milliseconds');
  }
  return {
    tenantId: query.tenantId,
    connectionIds: connectionIdList(query.connectionIds),
    since: query.since ?? null,
    addresses: query.addresses === undefined ? null : stringList(query.addresses, 'addresses').map((address) => address.trim().toLowerCase()),
    excludeAddresses: stringList(query.excludeAddresses, 'excludeAddresses').map((address) => address.trim().toLowerCase()),
    excludeDomains: stringList(query.excludeDomains, 'excludeDomains').map((domain) => domain.trim().toLowerCase()),
    limit: query.limit,
  };
}

/** The port's order for participantActivity (two-way first), for backends that sort in JavaScript. */
export function compareParticipantActivity(left: ParticipantActivity, right: ParticipantActivity): number {
  const latest = (entry: ParticipantActivity): number => Math.max(entry.lastReceivedAt ?? -Infinity, entry.lastSentAt ?? -Infinity);
  return (
    Math.min(right.received, right.sent) - Math.min(left.received, left.sent) ||
    right.received + right.sent - (left.received + left.sent) ||
    latest(right) - latest(left) ||
    (left.address < right.address ? -1 : left.address > right.address ? 1 : 0)
  );
}
