// Whether a message may be stored under a tenant's and a connection's ingestion policy.
//
// How the two combine: a message is stored only when BOTH admit it. So excludes add up (a tenant
// exclusion and a connection exclusion each keep mail out), includes narrow (a message must pass
// the tenant's include list and the connection's), `internalOnly: 'skip'` or `store: 'matched'` on
// either side applies. A connection's owner can tighten the tenant's rules, never loosen them.
import type { ConnectionPolicy, TenantPolicy } from '../domain/policy.js';
import type { ProviderMessage } from '../domain/schemas.js';

export interface EffectivePolicy {
  tenant: TenantPolicy;
  connection: ConnectionPolicy;
}

/** Why a message is kept out (never which address: the reason is safe to count and log). */
export type ExclusionReason = 'address' | 'internal' | 'folder' | 'label';

function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

/** Exclusion rules compiled once per policy into set look-ups (a page checks thousands of addresses). */
interface CompiledExclusions {
  addresses: Set<string>;
  domains: Set<string>;
  /** `*.example.com` kept as `.example.com`: a domain ending with it is a subdomain. */
  suffixes: string[];
}

const compiled = new WeakMap<readonly string[], CompiledExclusions>();

function compile(rules: readonly string[]): CompiledExclusions {
  let result = compiled.get(rules);
  if (result) return result;
  result = { addresses: new Set(), domains: new Set(), suffixes: [] };
  for (const rule of rules) {
    if (rule.startsWith('*@')) result.domains.add(rule.slice(2));
    else if (rule.startsWith('*.')) result.suffixes.push(rule.slice(1));
    else if (rule.includes('@')) result.addresses.add(rule);
    else result.domains.add(rule);
  }
  compiled.set(rules, result);
  return result;
}

/** Whether an address is hit by an exclusion list (see the grammar in domain/policy.ts). */
function addressExcluded(rules: readonly string[], rawAddress: string): boolean {
  if (rules.length === 0) return false;
  const address = rawAddress.toLowerCase();
  const { addresses, domains, suffixes } = compile(rules);
  if (addresses.has(address)) return true;
  const domain = domainOf(address);
  return domains.has(domain) || suffixes.some((suffix) => domain.endsWith(suffix));
}

function participantsOf(message: ProviderMessage): string[] {
  return [...(message.from ? [message.from] : []), ...message.to, ...message.cc, ...message.bcc, ...message.replyTo].map((participant) =>
    participant.address.toLowerCase(),
  );
}

function sideExcludes(rules: ConnectionPolicy, message: ProviderMessage, participants: string[], ownDomains: ReadonlySet<string>): ExclusionReason | null {
  if (participants.some((address) => addressExcluded(rules.exclude, address))) return 'address';
  if (rules.folders.exclude.includes(message.folder)) return 'folder';
  if (rules.folders.include.length > 0 && !rules.folders.include.includes(message.folder)) return 'folder';
  if (message.labels.some((label) => rules.labels.exclude.includes(label))) return 'label';
  if (rules.labels.include.length > 0 && !message.labels.some((label) => rules.labels.include.includes(label))) return 'label';
  if (rules.internalOnly === 'skip' && ownDomains.size > 0 && participants.length > 0 && participants.every((address) => ownDomains.has(domainOf(address)))) {
    return 'internal';
  }
  return null;
}

/** The first reason the policy keeps this message out, or null when it may be stored (subject to `store`). */
export function exclusionOf(policy: EffectivePolicy, message: ProviderMessage): ExclusionReason | null {
  const participants = participantsOf(message);
  const ownDomains = new Set(policy.tenant.ownDomains);
  return sideExcludes(policy.tenant, message, participants, ownDomains) ?? sideExcludes(policy.connection, message, participants, ownDomains);
}

/** Whether only matched mail is stored (either side asking is enough). */
export function storesMatchedOnly(policy: EffectivePolicy): boolean {
  return policy.tenant.store === 'matched' || policy.connection.store === 'matched';
}

/** Whether the policy keeps anything out at all (the engine skips every check when not). */
export function isOpen(policy: EffectivePolicy): boolean {
  const side = (rules: ConnectionPolicy) =>
    rules.exclude.length === 0 &&
    rules.folders.include.length === 0 &&
    rules.folders.exclude.length === 0 &&
    rules.labels.include.length === 0 &&
    rules.labels.exclude.length === 0 &&
    (rules.internalOnly === 'keep' || policy.tenant.ownDomains.length === 0) &&
    rules.store === 'all';
  return side(policy.tenant) && side(policy.connection);
}
