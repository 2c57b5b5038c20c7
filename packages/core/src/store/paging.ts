// Keyset pages, cut the same way by every backend: a backend reads up to one row past the
// limit (or holds the whole ordered list), and that extra row is how it knows a next page exists.
import { encodeKeysetCursor } from '../util/store-rules.js';

/**
 * The first `limit` of `rows` (in page order) and the cursor after the last of them, or null
 * when `rows` held no more than `limit`, i.e. this is the last page.
 */
export function keysetPage<Row>(
  rows: readonly Row[],
  limit: number,
  sortKey: (row: Row) => ReadonlyArray<string | number>,
): { items: Row[]; next: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next: rows.length > limit && last !== undefined ? encodeKeysetCursor(sortKey(last)) : null };
}
