// Matcher micro-benchmark: messages/s through matchMany (sync pages of 200) and match (one by one)
// against an in-memory CRM of 100,000 records. Prints one JSON object.
//   pnpm tsx --conditions=source bench/matcher.ts [--messages 20000] [--records 100000]
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { seededRandom } from '@threadlink/testing';
import { createMemoryResolver, MessageMeta, type MemoryRecord, type RecordResolver } from '@threadlink/core';
import { createMatcher } from '@threadlink/core/testing';

const { values } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    records: { type: 'string', default: '100000' },
    'page-size': { type: 'string', default: '200' },
    seed: { type: 'string', default: '1042' },
  },
});
const MESSAGE_COUNT = Number(values.messages);
const RECORD_COUNT = Number(values.records);
const PAGE_SIZE = Number(values['page-size']);

// Seeded (the generator @threadlink/testing pins), so every run matches the same corpus.
const random = seededRandom(Number(values.seed));
/** An index in [0, max). */
const int = (max: number): number => random.int(0, max - 1);

// 100,000 CRM records: half contacts, a fifth companies, the rest projects/proposals/work orders.
const contactCount = Math.floor(RECORD_COUNT * 0.5);
const companyCount = Math.floor(RECORD_COUNT * 0.2);
const projectCount = RECORD_COUNT - contactCount - companyCount;
const companyDomain = (index: number): string => `client${index}.example`;
const records: MemoryRecord[] = [];
for (let index = 0; index < companyCount; index += 1)
  records.push({ type: 'client', id: `cl-${index}`, label: `Client ${index}`, domains: [companyDomain(index)] });
for (let index = 0; index < contactCount; index += 1) {
  records.push({ type: 'contact', id: `c-${index}`, label: `Contact ${index}`, emails: [`person${index}@${companyDomain(index % companyCount)}`] });
}
const projectPrefixes = ['PRJ', 'WO', 'Q'] as const;
const projectTypes = { PRJ: 'project', WO: 'work_order', Q: 'proposal' } as const;
for (let index = 0; index < projectCount; index += 1) {
  const prefix = projectPrefixes[index % 3]!;
  const reference = `${prefix}-${10_000 + index}`;
  records.push({ type: projectTypes[prefix], id: `${prefix.toLowerCase()}-${index}`, label: reference, references: [reference] });
}
const resolver = createMemoryResolver(records);

let resolverCalls = 0;
const counted: RecordResolver = {
  contactsByEmail: (tenantId, keys) => {
    resolverCalls += 1;
    return resolver.contactsByEmail(tenantId, keys);
  },
  companiesByDomain: (tenantId, keys) => {
    resolverCalls += 1;
    return resolver.companiesByDomain(tenantId, keys);
  },
  projectsByReference: (tenantId, keys) => {
    resolverCalls += 1;
    return resolver.projectsByReference(tenantId, keys);
  },
};

// Realistic traffic: known contacts, strangers at known companies, free-mail, colleagues; subjects
// with 0–2 references in the spellings people use; some signed attachments; threads of ~5.
const account = 'me@acme.com';
const subjects = [
  (reference: string) => `RE: FW: Change request – ${reference} commissioning`,
  (reference: string) => `Signed: Proposal ${reference}`,
  (reference: string) => `WG: Angebot ${reference.replace('-', ' ')} – Erweiterung Halle 3`,
  (reference: string) => `AW: ${reference.toLowerCase()} Terminabstimmung`,
  () => 'Re: quick question',
  () => 'Lunch on Friday?',
  (reference: string, other: string) => `${reference} / ${other} handover`,
];
const referenceAt = (index: number): string => `${projectPrefixes[index % 3]!}-${10_000 + index}`;
const messages: MessageMeta[] = [];
for (let index = 0; index < MESSAGE_COUNT; index += 1) {
  const known = int(contactCount);
  const sender = random.pick([
    `person${known}@${companyDomain(known % companyCount)}`,
    `stranger${index}@${companyDomain(int(companyCount))}`,
    `someone${index}@gmail.com`,
    `colleague${int(50)}@acme.com`,
    `nobody${index}@unknown${index}.io`,
  ]);
  const reference = referenceAt(int(projectCount));
  const attachments = random.chance(0.15) ? [{ name: `${reference}_signed.pdf`, mimeType: 'application/pdf', size: 120_000 }] : [];
  const threadId = `thread-${Math.floor(index / 5)}`;
  messages.push(
    MessageMeta.parse({
      providerMessageId: `pm-${index}`,
      providerThreadId: `pt-${threadId}`,
      internetMessageId: `<m${index}@bench.example>`,
      inReplyTo: null,
      references: [],
      subject: random.pick(subjects)(reference, referenceAt(int(projectCount))),
      from: { address: sender },
      to: [{ address: account }, ...(random.chance(0.3) ? [{ address: `person${int(contactCount)}@${companyDomain(int(companyCount))}` }] : [])],
      cc: random.chance(0.2) ? [{ address: `colleague${int(50)}@acme.com` }] : [],
      bcc: [],
      replyTo: [],
      sentAt: 1_700_000_000_000 + index,
      receivedAt: 1_700_000_000_000 + index,
      direction: 'inbound',
      folder: 'inbox',
      labels: [],
      attachments,
      hasAttachments: attachments.length > 0,
      id: `m-${index}`,
      tenantId: 't1',
      connectionId: 'conn-1',
      userId: 'u1',
      provider: 'gmail',
      threadId,
      referenceTokens: [],
      syncedAt: 1_700_000_000_000,
    }),
  );
}

const matcher = createMatcher({ referencePatterns: [/\b(?:PRJ|WO|Q)-?\d{3,}\b/], ownDomains: ['acme.com'] });

async function batchRun(): Promise<{ ms: number; links: number }> {
  let links = 0;
  const started = performance.now();
  for (let offset = 0; offset < messages.length; offset += PAGE_SIZE) {
    const page = messages.slice(offset, offset + PAGE_SIZE).map((message) => ({ ...message, referenceTokens: matcher.extractReferences(message) }));
    const result = await matcher.matchMany(page, { resolver: counted, accountEmail: account, threadLinksByThread: new Map(), now: 1_700_000_000_000 });
    for (const list of result.values()) links += list.length;
  }
  return { ms: performance.now() - started, links };
}

async function singleRun(count: number): Promise<{ ms: number }> {
  const started = performance.now();
  for (const message of messages.slice(0, count)) {
    await matcher.match(message, { resolver: counted, accountEmail: account, threadLinks: [], now: 1_700_000_000_000 });
  }
  return { ms: performance.now() - started };
}

await batchRun(); // warm-up: JIT and regex compilation
resolverCalls = 0;
const batch = await batchRun();
const batchCalls = resolverCalls;
const singleCount = Math.min(MESSAGE_COUNT, 5_000);
resolverCalls = 0;
const single = await singleRun(singleCount);

const round = (value: number): number => Math.round(value * 10) / 10;
console.log(
  JSON.stringify(
    {
      benchmark: 'matcher',
      node: process.version,
      records: resolver.size,
      messages: MESSAGE_COUNT,
      pageSize: PAGE_SIZE,
      matchMany: {
        messagesPerSecond: Math.round((MESSAGE_COUNT / batch.ms) * 1000),
        totalMs: round(batch.ms),
        linksPerMessage: round(batch.links / MESSAGE_COUNT),
        resolverCallsPerPage: round(batchCalls / Math.ceil(MESSAGE_COUNT / PAGE_SIZE)),
      },
      match: {
        messages: singleCount,
        messagesPerSecond: Math.round((singleCount / single.ms) * 1000),
        totalMs: round(single.ms),
        resolverCallsPerMessage: round(resolverCalls / singleCount),
      },
    },
    null,
    2,
  ),
);
