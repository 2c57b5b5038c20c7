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
 * transaction's opening, sent with its BEGIN in one simple-protocol message). Quotes are doubled;
 * with a backslash the E'' form doubles those too, so the text means the same whatever
 * standard_conforming_strings says (as pg's escapeLiteral). NUL cannot be in PostgreSQL text.
 */
export function quoteLiteral(value: string): string {
  if (value.includes('\0')) throw new ThreadlinkError('INVALID_INPUT', 'A text value cannot contain NUL');
  const quoted = `'${value.replaceAll("'", "''").replaceAll('\\', '\\\\')}'`;
  return value.includes('\\') ? `E${quoted}` : quoted;
}
