// Resolver round-trips for the matcher: one call per look-up kind for a whole batch of messages,
// failures surfaced as retryable ThreadlinkErrors, and each answer attributed back to the key
// (address, domain, reference) it answers to.
import { RecordRef } from '../domain/schemas.js';
import { ThreadlinkError } from '../errors.js';
import type { RecordResolver, ResolvedRecord } from '../ports/record-resolver.js';

type ResolverMethod = 'contactsByEmail' | 'companiesByDomain' | 'projectsByReference' | 'projectsBySubject';

/**
 * A resolver that throws is the host's CRM being unavailable for a moment (database failover,
 * a timeout): the sync must be retried later, never completed without links. There is no
 * resolver-specific error code, so it is reported as an unavailable upstream, retryable.
 */
const RESOLVER_FAILURE_CODE = 'PROVIDER_UNAVAILABLE' as const;

export async function callResolver(method: ResolverMethod, call: () => Promise<ResolvedRecord[]>): Promise<ResolvedRecord[]> {
  let records: unknown;
  try {
    records = await call();
  } catch (error) {
    if (error instanceof ThreadlinkError) throw error;
    throw new ThreadlinkError(RESOLVER_FAILURE_CODE, `RecordResolver.${method} failed`, {
      retryable: true,
      cause: error,
      details: { component: 'record-resolver', method },
    });
  }
  if (!Array.isArray(records)) {
    throw new ThreadlinkError('CONFIG_INVALID', `RecordResolver.${method} must resolve to an array of records`, {
      details: { component: 'record-resolver', method },
    });
  }
  for (const record of records as unknown[]) {
    const parsed = RecordRef.safeParse(pickRef(record));
    if (!parsed.success) {
      throw new ThreadlinkError('CONFIG_INVALID', `RecordResolver.${method} returned a record without a valid type and id`, {
        details: { component: 'record-resolver', method },
      });
    }
  }
  return records as ResolvedRecord[];
}

function pickRef(record: unknown): unknown {
  if (typeof record !== 'object' || record === null) return record;
  const { type, id, label } = record as Record<string, unknown>;
  return label === undefined ? { type, id } : { type, id, label };
}

/** RecordLink.record is a strict RecordRef: the resolver's extra fields (emails, references) stay out. */
export function toRecordRef(record: RecordRef): RecordRef {
  return record.label === undefined ? { type: record.type, id: record.id } : { type: record.type, id: record.id, label: record.label };
}

/**
 * Groups a batch answer by the asked key each record carries (`keysOf`, normalised with
 * `normalize`). A record naming none of its keys can only be attributed when a single key was
 * asked; otherwise the host's resolver is incomplete and that is a configuration error, not
 * something to guess about.
 */
export function attribute(
  method: ResolverMethod,
  field: string,
  records: ResolvedRecord[],
  asked: readonly string[],
  keysOf: (record: ResolvedRecord) => readonly string[] | undefined,
  normalize: (key: string) => string,
): Map<string, ResolvedRecord[]> {
  const askedKeys = new Set(asked.map(normalize));
  const out = new Map<string, ResolvedRecord[]>();
  const add = (key: string, record: ResolvedRecord): void => {
    const list = out.get(key);
    if (!list) out.set(key, [record]);
    else if (!list.some((existing) => existing.type === record.type && existing.id === record.id)) list.push(record);
  };
  for (const record of records) {
    const keys = keysOf(record);
    if (keys === undefined || keys.length === 0) {
      if (askedKeys.size === 1) add([...askedKeys][0]!, record);
      else
        throw new ThreadlinkError(
          'CONFIG_INVALID',
          `RecordResolver.${method} returned record ${record.type}:${record.id} without \`${field}\`; batch answers must say which ${field} each record matches`,
          { details: { component: 'record-resolver', method } },
        );
      continue;
    }
    // Keys the resolver returned but nobody asked about are ignored: the answer may list every
    // address a contact has, only the asked ones can link this batch.
    for (const key of keys) {
      const normalized = normalize(key);
      if (askedKeys.has(normalized)) add(normalized, record);
    }
  }
  return out;
}

export function resolverMethod<K extends ResolverMethod>(resolver: RecordResolver, method: K): NonNullable<RecordResolver[K]> | undefined {
  if (typeof resolver !== 'object' || resolver === null || typeof resolver.contactsByEmail !== 'function') {
    throw new ThreadlinkError('CONFIG_INVALID', 'a RecordResolver with contactsByEmail is required for matching');
  }
  const implementation = resolver[method];
  return typeof implementation === 'function' ? (implementation.bind(resolver) as NonNullable<RecordResolver[K]>) : undefined;
}
