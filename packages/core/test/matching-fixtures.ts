// Shared fixtures for the matching tests: a small CRM (in-memory RecordResolver with the same
// indexes a database would have) and a builder for realistic stored messages.
import { createMemoryResolver, MessageMeta, type MemoryRecord, type RecordLink, type RecordResolver, type ResolvedRecord } from '@threadlink/core';

export const ACCOUNT = 'me@acme.com';
export const NOW = Date.UTC(2025, 2, 14, 9, 30);

const CRM_RECORDS: MemoryRecord[] = [
  { type: 'contact', id: 'c-ana', label: 'Ana Ruiz', emails: ['ana@bigco.com'] },
  { type: 'contact', id: 'c-bob', label: 'Bob Builder', emails: ['bob.builder@gmail.com'] },
  { type: 'client', id: 'cl-bigco', label: 'BigCo', domains: ['bigco.com'] },
  { type: 'client', id: 'cl-gmail', label: 'should never match', domains: ['gmail.com', 'hotmail.co.uk', 'gmx.de', 'acme.com'] },
  { type: 'client', id: 'cl-mueller', label: 'Müller Stahlbau GmbH', domains: ['mueller-stahlbau.de'] },
  { type: 'project', id: 'p-1042', label: 'PRJ-1042', references: ['PRJ-1042'], subjects: ['riverside commissioning'] },
  { type: 'project', id: 'p-1043', label: 'PRJ-1043', references: ['PRJ-1043'] },
  { type: 'proposal', id: 'q-2291', label: 'Q-2291', references: ['Q-2291'] },
  { type: 'work_order', id: 'wo-7731', label: 'WO-7731', references: ['WO-7731'] },
];

export const REFERENCE_PATTERN = /\b(?:PRJ|WO|Q)-?\d{3,}\b/;

export function crm(extra: MemoryRecord[] = []) {
  return createMemoryResolver([...CRM_RECORDS, ...extra]);
}

export type ResolverMethod = 'contactsByEmail' | 'companiesByDomain' | 'projectsByReference' | 'projectsBySubject';

/** Delegates to a real resolver and records every call with its arguments. */
export function recording(resolver: Required<RecordResolver>) {
  const calls: Array<{ method: ResolverMethod; tenantId: string; keys: string[] | string }> = [];
  const wrap =
    <K extends string | string[]>(method: ResolverMethod, inner: (tenantId: string, keys: K) => Promise<ResolvedRecord[]>) =>
    (tenantId: string, keys: K) => {
      calls.push({ method, tenantId, keys: Array.isArray(keys) ? [...keys] : keys });
      return inner(tenantId, keys);
    };
  const wrapped: Required<RecordResolver> = {
    contactsByEmail: wrap('contactsByEmail', resolver.contactsByEmail),
    companiesByDomain: wrap('companiesByDomain', resolver.companiesByDomain),
    projectsByReference: wrap('projectsByReference', resolver.projectsByReference),
    projectsBySubject: wrap('projectsBySubject', resolver.projectsBySubject),
  };
  const count = (method: ResolverMethod) => calls.filter((call) => call.method === method).length;
  return { resolver: wrapped, calls, count };
}

let sequence = 0;

export interface MailSpec {
  id?: string;
  tenantId?: string;
  threadId?: string;
  subject?: string;
  from?: string | null;
  to?: string[];
  cc?: string[];
  bcc?: string[];
  replyTo?: string[];
  attachments?: string[];
  direction?: 'inbound' | 'outbound';
  referenceTokens?: string[];
}

/** A stored message as the engine hands it to the matcher, validated by the real schema. */
export function mail(spec: MailSpec = {}): MessageMeta {
  sequence += 1;
  const id = spec.id ?? `m${sequence}`;
  const participant = (address: string) => ({ address });
  return MessageMeta.parse({
    providerMessageId: `provider-${id}`,
    providerThreadId: `provider-${spec.threadId ?? id}`,
    internetMessageId: `<${id}@mail.example>`,
    inReplyTo: null,
    references: [],
    subject: spec.subject ?? '',
    from: spec.from === null ? null : participant(spec.from ?? 'ana@bigco.com'),
    to: (spec.to ?? [ACCOUNT]).map(participant),
    cc: (spec.cc ?? []).map(participant),
    bcc: (spec.bcc ?? []).map(participant),
    replyTo: (spec.replyTo ?? []).map(participant),
    sentAt: NOW - 60_000,
    receivedAt: NOW - 30_000,
    direction: spec.direction ?? 'inbound',
    folder: spec.direction === 'outbound' ? 'sent' : 'inbox',
    labels: [],
    attachments: (spec.attachments ?? []).map((name) => ({ name, mimeType: 'application/pdf', size: 48_213 })),
    hasAttachments: (spec.attachments ?? []).length > 0,
    id,
    tenantId: spec.tenantId ?? 't1',
    connectionId: 'conn-1',
    userId: 'u1',
    provider: 'gmail',
    threadId: spec.threadId ?? `thread-${id}`,
    referenceTokens: spec.referenceTokens ?? [],
    syncedAt: NOW,
  });
}

export function context(resolver: RecordResolver, threadLinks: RecordLink[] = []) {
  return { resolver, accountEmail: ACCOUNT, threadLinks, now: NOW };
}

/** The links of one message as (type:id → rule) for compact assertions. */
export function summary(links: ReadonlyArray<{ record: { type: string; id: string }; rule: string }>): Record<string, string> {
  return Object.fromEntries(links.map((link) => [`${link.record.type}:${link.record.id}`, link.rule]));
}
