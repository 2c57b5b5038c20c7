// Reading a store's physical rows backend-independently: canonical JSON (key order, row order,
// bigint, bytes normalised) so dumps from memory and from Postgres compare the same way.
export interface StoreRawAccess {
  /** Every physically stored row, per table or collection. */
  dump(): Promise<Record<string, unknown[]>>;
}

function normalise(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Uint8Array) return `bytes:${Buffer.from(value).toString('utf8')}`;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(normalise);
  if (value instanceof Map) return normalise(Object.fromEntries(value));
  if (value instanceof Set) return normalise([...value]);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, normalise((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

export function canonicalRow(row: unknown): string {
  return JSON.stringify(normalise(row)) ?? 'undefined';
}

/** table → sorted canonical rows: equal snapshots mean nothing was written. */
export function snapshot(dump: Record<string, unknown[]>): Record<string, string[]> {
  return Object.fromEntries(
    Object.keys(dump)
      .sort()
      .map((table) => [table, (dump[table] ?? []).map(canonicalRow).sort()]),
  );
}

export function rowCounts(dump: Record<string, unknown[]>): Record<string, number> {
  return Object.fromEntries(
    Object.keys(dump)
      .sort()
      .map((table) => [table, dump[table]?.length ?? 0]),
  );
}

/** Every string held anywhere in a value (bytes decoded as UTF-8, keys included). */
export function stringsIn(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') into.push(value);
  else if (value instanceof Uint8Array) into.push(Buffer.from(value).toString('utf8'));
  else if (value instanceof Map) stringsIn([...value.entries()], into);
  else if (value instanceof Set) stringsIn([...value], into);
  else if (Array.isArray(value)) for (const item of value) stringsIn(item, into);
  else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      into.push(key);
      stringsIn(item, into);
    }
  }
  return into;
}

export function mentions(row: unknown, tokens: readonly string[]): boolean {
  return stringsIn(row).some((text) => tokens.some((token) => text.includes(token)));
}

/** `table: row` for every row that contains one of the tokens. */
export function rowsMentioning(dump: Record<string, unknown[]>, tokens: readonly string[]): string[] {
  return Object.entries(dump).flatMap(([table, rows]) => rows.filter((row) => mentions(row, tokens)).map((row) => `${table}: ${canonicalRow(row)}`));
}
