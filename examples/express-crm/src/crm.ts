// A tiny seeded CRM. A real host answers these look-ups from its own tables; threadlink only
// asks (RecordResolver) and never owns CRM data. The records are the ones the demo, the README
// and the tests talk about.
import type { RecordRef, RecordResolver, ResolvedRecord } from '@threadlink/core';

type RecordType = 'client' | 'contact' | 'project' | 'proposal' | 'work_order';

interface Contact {
  name: string;
  email: string;
}

export interface CrmRecord {
  type: RecordType;
  id: string;
  label: string;
  /** One line for the records list ("Commissioning work order for BigCo"). */
  description: string;
  /** Clients and contacts: the people who write to us. */
  contacts?: Contact[];
  /** Clients: the mail domains the company owns. */
  domains?: string[];
  /** Projects, proposals, work orders: the reference number people put in subjects. */
  reference?: string;
  /** Projects, proposals, work orders: the client they belong to. */
  clientId?: string;
}

const SEED_RECORDS: readonly CrmRecord[] = [
  {
    type: 'client',
    id: 'bigco',
    label: 'BigCo',
    description: 'Industrial client, commissioning contract',
    contacts: [
      { name: 'Bianca Ortiz', email: 'client@bigco.com' },
      { name: 'Pete Marsh', email: 'pm@bigco.com' },
    ],
    domains: ['bigco.com'],
  },
  {
    type: 'client',
    id: 'northwind',
    label: 'Northwind',
    description: 'Logistics client, pump station upgrade',
    contacts: [{ name: 'Nora West', email: 'ops@northwind.example' }],
    domains: ['northwind.example'],
  },
  { type: 'project', id: 'PRJ-1042', label: 'PRJ-1042', reference: 'PRJ-1042', clientId: 'bigco', description: 'BigCo commissioning work order' },
  { type: 'project', id: 'PRJ-2077', label: 'PRJ-2077', reference: 'PRJ-2077', clientId: 'northwind', description: 'Northwind pump station upgrade' },
  { type: 'proposal', id: 'Q-2291', label: 'Q-2291', reference: 'Q-2291', clientId: 'bigco', description: 'BigCo phase-two proposal' },
  { type: 'work_order', id: 'WO-311', label: 'WO-311', reference: 'WO-311', clientId: 'northwind', description: 'Northwind valve replacement' },
];

/**
 * How this CRM writes its reference numbers. The matcher runs them over subjects and attachment
 * names and normalises what people type ("prj 1042", "PRJ–1042") to the form the pattern accepts.
 */
export const REFERENCE_PATTERNS: RegExp[] = [/\bPRJ-?\d{4,}\b/, /\bWO-?\d{3,}\b/, /\bQ-?\d{4,}\b/];

/** Compares references the way the matcher does: letters and digits only, upper case. */
const referenceKey = (reference: string): string => reference.toUpperCase().replace(/[^\p{L}\p{N}]/gu, '');

export interface Crm extends Required<Pick<RecordResolver, 'contactsByEmail' | 'companiesByDomain' | 'projectsByReference'>> {
  records(): CrmRecord[];
  get(type: string, id: string): CrmRecord | undefined;
  /** The contact with this address, if any client has one. */
  contact(email: string): Contact | undefined;
  ref(record: CrmRecord): RecordRef;
  /** Adds a person as a contact record (from "People you email who are not in the CRM"); the existing one when the address is known. */
  createContact(input: Contact): { record: CrmRecord; created: boolean };
}

/**
 * The demo CRM is single-tenant data shown to whichever tenant asks; a multi-tenant host would
 * filter every look-up by `tenantId`.
 */
export function createCrm(seed: readonly CrmRecord[] = SEED_RECORDS): Crm {
  const records = [...seed];
  const byEmail = new Map<string, CrmRecord>();
  const byDomain = new Map<string, CrmRecord>();
  const byReference = new Map<string, CrmRecord>();
  for (const record of records) {
    for (const contact of record.contacts ?? []) byEmail.set(contact.email.toLowerCase(), record);
    for (const domain of record.domains ?? []) byDomain.set(domain.toLowerCase(), record);
    if (record.reference) byReference.set(referenceKey(record.reference), record);
  }

  const ref = (record: CrmRecord): RecordRef => ({ type: record.type, id: record.id, label: record.label });

  // Each answer names the asked keys it matches (emails/domains/references): the matcher
  // resolves a whole sync page in one call and must attribute every record to its messages.
  const collect = (
    keys: string[],
    index: Map<string, CrmRecord>,
    normalize: (key: string) => string,
    field: 'emails' | 'domains' | 'references',
  ): ResolvedRecord[] => {
    const found = new Map<CrmRecord, string[]>();
    for (const key of keys) {
      const record = index.get(normalize(key));
      if (record) found.set(record, [...(found.get(record) ?? []), key]);
    }
    return [...found].map(([record, matched]) => {
      const answer: ResolvedRecord = ref(record);
      answer[field] = matched;
      return answer;
    });
  };

  return {
    records: () => records.map((record) => ({ ...record })),
    get: (type, id) => records.find((record) => record.type === type && record.id === id),
    contact: (email) => byEmail.get(email.toLowerCase())?.contacts?.find((contact) => contact.email.toLowerCase() === email.toLowerCase()),
    ref,
    createContact(input) {
      const email = input.email.trim().toLowerCase();
      const known = byEmail.get(email);
      if (known) return { record: { ...known }, created: false };
      const record: CrmRecord = {
        type: 'contact',
        id: `ct-${email.replace(/[^a-z0-9]+/g, '-')}`,
        label: input.name.trim() || email,
        description: `Contact · ${email.split('@')[1] ?? email}`,
        contacts: [{ name: input.name.trim() || email, email }],
      };
      records.push(record);
      byEmail.set(email, record);
      return { record: { ...record }, created: true };
    },
    contactsByEmail: async (_tenantId, addresses) => collect(addresses, byEmail, (key) => key.toLowerCase(), 'emails'),
    companiesByDomain: async (_tenantId, domains) => collect(domains, byDomain, (key) => key.toLowerCase(), 'domains'),
    projectsByReference: async (_tenantId, references) => collect(references, byReference, referenceKey, 'references'),
  };
}
