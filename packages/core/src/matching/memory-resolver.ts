// A RecordResolver over records held in memory, indexed like a CRM database would be (by address,
// domain and reference key), for prototypes, tests and the matcher benchmark. Hosts with a real
// CRM implement RecordResolver against their own tables instead.
import type { RecordResolver, ResolvedRecord } from '../ports/record-resolver.js';
import { normalizeSubject } from '../util/headers.js';
import { referenceKey } from './references.js';

export interface MemoryRecord extends ResolvedRecord {
  /** Visible to this tenant only; omitted = every tenant. */
  tenantId?: string;
  /** Phrases that identify an open project by subject (matched inside the normalised subject). */
  subjects?: string[];
}

export interface MemoryResolver extends Required<RecordResolver> {
  /** Adds or replaces (same tenant, type and id) a record. */
  upsert(record: MemoryRecord): void;
  readonly size: number;
}

function recordId(record: MemoryRecord): string {
  return `${record.tenantId ?? '*'}\u0000${record.type}\u0000${record.id}`;
}

function copy(record: MemoryRecord): ResolvedRecord {
  const out: ResolvedRecord = { type: record.type, id: record.id };
  if (record.label !== undefined) out.label = record.label;
  if (record.emails) out.emails = [...record.emails];
  if (record.domains) out.domains = [...record.domains];
  if (record.references) out.references = [...record.references];
  return out;
}

export function createMemoryResolver(initial: Iterable<MemoryRecord> = []): MemoryResolver {
  const records = new Map<string, MemoryRecord>();
  const byEmail = new Map<string, Set<string>>();
  const byDomain = new Map<string, Set<string>>();
  const byReference = new Map<string, Set<string>>();
  const withSubjects = new Set<string>();

  const index = (map: Map<string, Set<string>>, key: string, id: string): void => {
    let ids = map.get(key);
    if (!ids) map.set(key, (ids = new Set()));
    ids.add(id);
  };
  const unindex = (map: Map<string, Set<string>>, key: string, id: string): void => {
    const ids = map.get(key);
    ids?.delete(id);
    if (ids?.size === 0) map.delete(key);
  };
  const keysOf = (record: MemoryRecord): Array<[Map<string, Set<string>>, string]> => [
    ...(record.emails ?? []).map((email): [Map<string, Set<string>>, string] => [byEmail, email.trim().toLowerCase()]),
    ...(record.domains ?? []).map((domain): [Map<string, Set<string>>, string] => [byDomain, domain.trim().toLowerCase()]),
    ...(record.references ?? []).map((reference): [Map<string, Set<string>>, string] => [byReference, referenceKey(reference)]),
  ];

  const upsert = (record: MemoryRecord): void => {
    const id = recordId(record);
    const previous = records.get(id);
    if (previous) for (const [map, key] of keysOf(previous)) unindex(map, key, id);
    records.set(id, record);
    for (const [map, key] of keysOf(record)) index(map, key, id);
    if (record.subjects && record.subjects.length > 0) withSubjects.add(id);
    else withSubjects.delete(id);
  };
  for (const record of initial) upsert(record);

  const lookup = (map: Map<string, Set<string>>, tenantId: string, keys: readonly string[], normalize: (key: string) => string): ResolvedRecord[] => {
    const found = new Set<string>();
    for (const key of keys) for (const id of map.get(normalize(key)) ?? []) found.add(id);
    const out: ResolvedRecord[] = [];
    for (const id of found) {
      const record = records.get(id)!;
      if (record.tenantId === undefined || record.tenantId === tenantId) out.push(copy(record));
    }
    return out;
  };
  const lower = (key: string): string => key.trim().toLowerCase();

  return {
    upsert,
    get size() {
      return records.size;
    },
    contactsByEmail: async (tenantId, addresses) => lookup(byEmail, tenantId, addresses, lower),
    companiesByDomain: async (tenantId, domains) => lookup(byDomain, tenantId, domains, lower),
    projectsByReference: async (tenantId, references) => lookup(byReference, tenantId, references, referenceKey),
    projectsBySubject: async (tenantId, normalizedSubject) => {
      const out: ResolvedRecord[] = [];
      for (const id of withSubjects) {
        const record = records.get(id)!;
        if (record.tenantId !== undefined && record.tenantId !== tenantId) continue;
        const hit = record.subjects!.some((phrase) => {
          const normalized = normalizeSubject(phrase);
          return normalized.length > 0 && normalizedSubject.includes(normalized);
        });
        if (hit) out.push(copy(record));
      }
      return out;
    },
  };
}
