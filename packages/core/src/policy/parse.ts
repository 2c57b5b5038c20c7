// A host's policy input, parsed with the level's strict schema. Invalid input is POLICY_INVALID
// naming the offending rule (its path and, for an exclusion, the entry itself: a rule the user
// typed, not an address taken from mail).
import { ConnectionPolicy, TenantPolicy } from '../domain/policy.js';
import { ThreadlinkError } from '../errors.js';

export type PolicyLevel = 'tenant' | 'connection';

export function parsePolicyInput(level: PolicyLevel, input: unknown): TenantPolicy | ConnectionPolicy {
  const parsed = (level === 'tenant' ? TenantPolicy : ConnectionPolicy).safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path.map(String).join('.') || '(policy)';
  let value: unknown = input;
  for (const key of issue?.path ?? []) value = typeof value === 'object' && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  const shown = typeof value === 'string' ? ` "${value.slice(0, 320)}"` : '';
  const unknownKeys = issue?.code === 'unrecognized_keys' ? ` (unknown: ${issue.keys.join(', ')})` : '';
  throw new ThreadlinkError('POLICY_INVALID', `Invalid ${level} policy rule ${path}${shown}: ${issue?.message ?? 'invalid'}${unknownKeys}`, {
    details: { rule: path, level },
  });
}
