// The RecordResolver port, implemented by the host CRM: threadlink asks, the CRM answers,
// and threadlink never owns CRM data. Every method is optional except the address look-up.
//
// Look-ups are batched: one call answers for a whole sync page (hundreds of messages), so each
// returned record must say WHICH of the asked keys it answers to (`emails`, `domains`,
// `references`). Without that a batch answer cannot be attributed to the right messages; the
// matcher only tolerates a missing key list when exactly one key was asked.
import type { RecordRef } from '../domain/schemas.js';

export interface ResolvedRecord extends RecordRef {
  /** For projects/proposals: the reference numbers the record carries (e.g. ['PRJ-1042']). */
  references?: string[];
  /** For contacts/clients: the addresses the record answers to (any case). */
  emails?: string[];
  /** For companies/clients: the mail domains the record owns (e.g. ['bigco.com']). */
  domains?: string[];
}

export interface RecordResolver {
  /** Contacts / clients whose email address is one of these (lower-cased). */
  contactsByEmail(tenantId: string, addresses: string[]): Promise<ResolvedRecord[]>;
  /** Companies / clients owning these domains (lower-cased). */
  companiesByDomain?(tenantId: string, domains: string[]): Promise<ResolvedRecord[]>;
  /**
   * Projects / jobs / proposals / work orders carrying these reference numbers, as the matcher
   * normalised them (upper case, `PRJ-1042` when the host pattern accepts the hyphenated form).
   */
  projectsByReference?(tenantId: string, references: string[]): Promise<ResolvedRecord[]>;
  /** Open projects to match by normalised subject (weaker, opt-in rule). */
  projectsBySubject?(tenantId: string, normalizedSubject: string): Promise<ResolvedRecord[]>;
}
