// Argument checks for what the schemas do not cover (a tenant id, plain id lists): every
// MetadataStore backend refuses the same input with the same code and message.
import { ThreadlinkError } from '../errors.js';

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
