// Participant addresses and domains as the participant rules look them up.
import type { MessageMeta } from '../domain/schemas.js';
import { domainOf } from '../util/headers.js';
import { parentDomains, type DomainClassifier } from './domains.js';

type ParticipantRole = 'from' | 'to' | 'cc' | 'bcc' | 'reply-to';

export interface AddressEntry {
  /** As the message carries it (lower case). */
  address: string;
  /** The keys asked of the resolver: the address, and its plus-less base when plus addressing is on. */
  lookups: string[];
  role: ParticipantRole;
}

export interface DomainEntry {
  /** The domain asked of the resolver (the participant's domain or one of its parents). */
  domain: string;
  address: string;
  role: ParticipantRole;
}

/** ana+crm@x.com → ana@x.com (RFC 5233 subaddress). A leading "+" is a real local part, kept. */
function stripPlusTag(address: string): string {
  const at = address.lastIndexOf('@');
  const plus = address.indexOf('+');
  return plus > 0 && plus < at ? address.slice(0, plus) + address.slice(at) : address;
}

export function addressKey(address: string, plusAddressing: boolean): string {
  const lower = address.trim().toLowerCase();
  return plusAddressing ? stripPlusTag(lower) : lower;
}

function rolesOf(message: Pick<MessageMeta, 'from' | 'to' | 'cc' | 'bcc' | 'replyTo'>): Array<[string, ParticipantRole]> {
  const out: Array<[string, ParticipantRole]> = [];
  if (message.from) out.push([message.from.address, 'from']);
  for (const participant of message.to) out.push([participant.address, 'to']);
  for (const participant of message.cc) out.push([participant.address, 'cc']);
  for (const participant of message.bcc) out.push([participant.address, 'bcc']);
  for (const participant of message.replyTo) out.push([participant.address, 'reply-to']);
  return out;
}

export function participantEntries(
  message: Pick<MessageMeta, 'from' | 'to' | 'cc' | 'bcc' | 'replyTo'>,
  accountKey: string | null,
  plusAddressing: boolean,
  domains: DomainClassifier,
): { addresses: AddressEntry[]; domains: DomainEntry[] } {
  const addresses: AddressEntry[] = [];
  const domainEntries: DomainEntry[] = [];
  const seenAddresses = new Set<string>();
  const seenDomains = new Set<string>();
  for (const [raw, role] of rolesOf(message)) {
    const address = raw.trim().toLowerCase();
    if (!address || seenAddresses.has(address)) continue;
    seenAddresses.add(address);
    // The mailbox owner is on every message of their mailbox; linking them would link everything.
    if (accountKey !== null && addressKey(address, plusAddressing) === accountKey) continue;
    const base = plusAddressing ? stripPlusTag(address) : address;
    addresses.push({ address, lookups: base === address ? [address] : [address, base], role });
    const domain = domainOf(address);
    if (!domain || domains.isFreeMail(domain) || domains.isOwn(domain)) continue;
    for (const candidate of [domain, ...parentDomains(domain)]) {
      if (seenDomains.has(candidate)) continue;
      seenDomains.add(candidate);
      domainEntries.push({ domain: candidate, address, role });
    }
  }
  return { addresses, domains: domainEntries };
}
