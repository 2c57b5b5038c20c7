import { ThreadlinkError } from '@threadlink/core/store';

// Schema names end up in SQL text (identifiers cannot be parameters), so only plain names pass.
const PLAIN_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export function quoteIdentifier(name: string): string {
  if (!PLAIN_IDENTIFIER.test(name)) {
    throw new ThreadlinkError('CONFIG_INVALID', `schema name must match ${PLAIN_IDENTIFIER} (got ${JSON.stringify(name)})`);
  }
  return `"${name}"`;
}

/**
 * A string as an SQL literal, for the few statements that must go without parameters (a
 * transaction's opening and closing, sent with its BEGIN or COMMIT in one simple-protocol message).
 * Quotes are doubled; with a backslash the E'' form doubles those too, so the text means the same
 * whatever standard_conforming_strings says (as pg's escapeLiteral). NUL cannot be in PostgreSQL text.
 */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new ThreadlinkError('INVALID_INPUT', 'A text value cannot contain NUL');
  const quoted = `'${value.replaceAll("'", "''").replaceAll('\\', '\\\\')}'`;
  return value.includes('\\') ? `E${quoted}` : quoted;
}

/** A text[] literal ('{"a","b"}'): each element double-quoted, its backslashes and quotes escaped. */
function textArrayLiteral(values: readonly unknown[]): string {
  const elements = values.map((value) => {
    if (typeof value !== 'string') throw new ThreadlinkError('INTERNAL', 'Only text arrays are written as SQL literals');
    return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
  });
  return quoteLiteral(`{${elements.join(',')}}`);
}

/**
 * A value as an SQL literal in place of a parameter: NULL, a finite number, TRUE/FALSE, a quoted
 * string, a text array, or an object as its JSON text. Strings and arrays stay untyped literals,
 * which PostgreSQL casts to the column or the explicit cast they meet (as it does a parameter).
 */
export function sqlLiteral(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return quoteLiteral(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new ThreadlinkError('INTERNAL', 'A number written as an SQL literal must be finite');
    return String(value);
  }
  if (Array.isArray(value)) return textArrayLiteral(value);
  if (typeof value === 'object') return quoteLiteral(JSON.stringify(value));
  throw new ThreadlinkError('INTERNAL', `A ${typeof value} cannot be written as an SQL literal`);
}
