// Argument checks for what the schemas do not cover (plain strings, lists, lease numbers).
// The same rules as every other MetadataStore backend, so callers see the same codes.
import { ThreadlinkError } from '@threadlink/core';

export function requireTenant(tenantId: string): void {
  if (typeof tenantId !== 'string' || tenantId === '') throw new ThreadlinkError('INVALID_INPUT', 'tenantId is required');
}

export function stringList(values: readonly string[] | undefined, what: string): string[] {
  if (values === undefined) return [];
  if (!Array.isArray(values) || values.some((value) => typeof value !== 'string')) {
    throw new ThreadlinkError('INVALID_INPUT', `${what} must be an array of strings`);
  }
  return [...values];
}

/** undefined = every connection; otherwise only these. */
export function connectionIdList(connectionIds: readonly string[] | undefined): string[] | null {
  return connectionIds === undefined ? null : stringList(connectionIds, 'connectionIds');
}


