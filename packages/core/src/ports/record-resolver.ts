// The RecordResolver port, implemented by the host CRM: threadlink asks, the CRM answers,
// and threadlink never owns CRM data. Every method is optional except the address look-up.
import type { RecordRef } from '../domain/schemas.js';

export interface ResolvedRecord extends RecordRef {
  /** For projects/proposals: the reference numbers the record carries (e.g. ['PRJ-1042']). */
  references?: string[];
}

export interface RecordResolver {
  /** Contacts / clients whose email address is one of these (lower-cased). */
  contactsByEmail(tenantId: string, addresses: string[]): Promise<ResolvedRecord[]>;
  /** Companies / clients owning these domains. */
  companiesByDomain?(tenantId: string, domains: string[]): Promise<ResolvedRecord[]>;
  /** Projects / jobs / proposals / work orders carrying these reference numbers (as found in mail). */
  projectsByReference?(tenantId: string, references: string[]): Promise<ResolvedRecord[]>;
  /** Open projects to match by normalised subject (weaker, opt-in rule). */
  projectsBySubject?(tenantId: string, normalizedSubject: string): Promise<ResolvedRecord[]>;
}
