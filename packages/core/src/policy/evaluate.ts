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
  /**
   * The mailbox's label directory (label id → current name, lower-cased), so a label rule written
   * as a name matches by that name (rules by name: labels.ts). Absent: rules match ids only.
   */
  labelNames?: ReadonlyMap<string, string>;
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

/** Label rule entries as look-ups: exact (ids) and lower-cased (names). */
const compiledLabels = new WeakMap<readonly string[], { exact: Set<string>; folded: Set<string> }>();

/** Whether one of the message's labels is named by a rule entry: by id, or by its current name (any case). */
function labelHit(rules: readonly string[], labels: readonly string[], names: ReadonlyMap<string, string> | undefined): boolean {
  if (rules.length === 0 || labels.length === 0) return false;
  let compiledRules = compiledLabels.get(rules);
  if (!compiledRules) compiledLabels.set(rules, (compiledRules = { exact: new Set(rules), folded: new Set(rules.map((rule) => rule.toLowerCase())) }));
  const { exact, folded } = compiledRules;
  return labels.some((id) => {
    if (exact.has(id)) return true;
    const name = names?.get(id);
    return name !== undefined && folded.has(name);
  });
}

function sideExcludes(
  rules: ConnectionPolicy,
  message: ProviderMessage,
  participants: string[],
  ownDomains: ReadonlySet<string>,
  names: ReadonlyMap<string, string> | undefined,
): ExclusionReason | null {
  if (participants.some((address) => addressExcluded(rules.exclude, address))) return 'address';
  if (rules.folders.exclude.includes(message.folder)) return 'folder';
  if (rules.folders.include.length > 0 && !rules.folders.include.includes(message.folder)) return 'folder';
  if (labelHit(rules.labels.exclude, message.labels, names)) return 'label';
  if (rules.labels.include.length > 0 && !labelHit(rules.labels.include, message.labels, names)) return 'label';
  if (rules.internalOnly === 'skip' && ownDomains.size > 0 && participants.length > 0 && participants.every((address) => ownDomains.has(domainOf(address)))) {
    return 'internal';
  }
  return null;
}

/** The first reason the policy keeps this message out, or null when it may be stored (subject to `store`). */
export function exclusionOf(policy: EffectivePolicy, message: ProviderMessage): ExclusionReason | null {
  const participants = participantsOf(message);
  const ownDomains = new Set(policy.tenant.ownDomains);
  return (
    sideExcludes(policy.tenant, message, participants, ownDomains, policy.labelNames) ??
    sideExcludes(policy.connection, message, participants, ownDomains, policy.labelNames)
  );
}

/** Whether only matched mail is stored (either side asking is enough). */
export function storesMatchedOnly(policy: EffectivePolicy): boolean {
  return policy.tenant.store === 'matched' || policy.connection.store === 'matched';
}

/** Whether either side has a label rule (only then does a page need the label directory). */
export function hasLabelRules(policy: EffectivePolicy): boolean {
  const side = (rules: ConnectionPolicy) => rules.labels.include.length > 0 || rules.labels.exclude.length > 0;
  return side(policy.tenant) || side(policy.connection);
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
