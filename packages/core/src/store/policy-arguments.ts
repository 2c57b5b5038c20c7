// The policy methods' argument rules, shared by every backend so memory, PGlite and PostgreSQL
// accept and refuse the same input.
import { ConnectionPolicy, TenantPolicy } from '../domain/policy.js';
import { ThreadlinkError } from '../errors.js';
import { requireTenant, stringList } from './arguments.js';

/** The most ids one purgeMessages call takes (core purges in chunks of this size). */
export const MAX_PURGE_IDS = 1000;

/** savePolicy's policy, parsed with the schema of its level (strict: an unknown key is INVALID_INPUT). */
export function parsePolicyToSave(tenantId: string, connectionId: string | null, policy: unknown): TenantPolicy | ConnectionPolicy {
  requireTenant(tenantId);
  if (connectionId !== null && (typeof connectionId !== 'string' || connectionId === '')) {
    throw new ThreadlinkError('INVALID_INPUT', 'connectionId must be a non-empty string or null (the tenant policy)');
  }
  const parsed = (connectionId === null ? TenantPolicy : ConnectionPolicy).safeParse(policy);
  if (!parsed.success) throw new ThreadlinkError('INVALID_INPUT', `Invalid ${connectionId === null ? 'tenant' : 'connection'} policy`);
  return parsed.data;
}

/** A stored policy read back (a row written by an older version gains the new defaults). */
export function parseStoredPolicy(level: 'tenant' | 'connection', value: unknown): TenantPolicy | ConnectionPolicy {
  const parsed = (level === 'tenant' ? TenantPolicy : ConnectionPolicy).safeParse(value);
  if (!parsed.success) throw new ThreadlinkError('STORE_ERROR', `A stored ${level} policy does not parse`, { retryable: false });
  return parsed.data;
}

/** purgeMessages' ids: distinct, at most MAX_PURGE_IDS. */
export function parsePurgeIds(tenantId: string, messageIds: readonly string[]): string[] {
  requireTenant(tenantId);
  const ids = [...new Set(stringList(messageIds, 'messageIds'))];
  if (ids.length > MAX_PURGE_IDS) throw new ThreadlinkError('INVALID_INPUT', `purgeMessages takes at most ${MAX_PURGE_IDS} ids`);
  return ids;
}
