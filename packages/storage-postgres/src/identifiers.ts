import { ThreadlinkError } from '@threadlink/core/store';

// Schema names end up in SQL text (identifiers cannot be parameters), so only plain names pass.
const PLAIN_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

export function quoteIdentifier(name: string): string {
  if (!PLAIN_IDENTIFIER.test(name)) {
    throw new ThreadlinkError('CONFIG_INVALID', `schema name must match ${PLAIN_IDENTIFIER} (got ${JSON.stringify(name)})`);
  }
  return `"${name}"`;
}
