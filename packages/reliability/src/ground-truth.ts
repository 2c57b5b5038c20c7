// The verdict: what each emulated mailbox really holds (its own ground truth, `messages(mailbox)`),
// mapped the way the adapters document it, against what the store holds — message by message,
// plus duplicates (physically, in the raw rows), links, and the canary grep.
import type { MetadataStore, PublicConnection, StoredMessage } from '@threadlink/core';
import type { GmailEmulator, GraphEmulator } from '@threadlink/testing';
import { CLIENTS, COMPANY_DOMAIN, KNOWN_PROJECTS } from './world.js';

export interface ExpectedMessage {
  providerMessageId: string;
  providerThreadId: string;
  folder: string;
  labels: string[];
  subject: string;
  attachmentNames: string[];
}

/** Trash counts as deleted and drafts/chats are not mail (packages/gmail/src/metadata.ts). */
export function expectedGmail(google: GmailEmulator, mailbox: string): Map<string, ExpectedMessage> {
  const expected = new Map<string, ExpectedMessage>();
  for (const message of google.messages(mailbox)) {
    const labels = message.labelIds;
    if (labels.includes('TRASH') || labels.includes('DRAFT') || labels.includes('CHAT')) continue;
    const folder = labels.includes('SPAM') ? 'spam' : labels.includes('INBOX') ? 'inbox' : labels.includes('SENT') ? 'sent' : 'archive';
    expected.set(message.id, {
      providerMessageId: message.id,
      providerThreadId: message.threadId,
      folder,
      labels: [...labels].sort(),
      subject: message.subject,
      attachmentNames: [...message.attachmentNames].sort(),
    });
  }
  return expected;
}

/** Every folder but the excluded ones (Deleted Items, Junk Email, Drafts, Outbox) is synced; drafts never (packages/outlook/src/options.ts). A message's label is its folder's id. */
const EXCLUDED_OUTLOOK_FOLDERS = new Set(['deleteditems', 'junkemail', 'drafts', 'outbox']);
export function expectedOutlook(microsoft: GraphEmulator, mailbox: string): Map<string, ExpectedMessage> {
  const expected = new Map<string, ExpectedMessage>();
  for (const message of microsoft.messages(mailbox)) {
    if (message.isDraft || EXCLUDED_OUTLOOK_FOLDERS.has(message.folder)) continue;
    expected.set(message.immutableId, {
      providerMessageId: message.immutableId,
      providerThreadId: message.conversationId,
      folder: message.folder === 'inbox' ? 'inbox' : message.folder === 'sentitems' ? 'sent' : 'archive',
      labels: [microsoft.folderId(mailbox, message.folder)],
      subject: message.subject,
      attachmentNames: message.attachments.map((attachment) => attachment.name).sort(),
    });
  }
  return expected;
}

export interface ConnectionVerdict {
  connectionId: string;
  accountEmail: string;
  expected: number;
  missing: string[];
  extra: string[];
  /** Present on both sides but folder, labels, thread or subject differ. */
  mismatched: string[];
  duplicates: number;
  linksChecked: number;
  linksMissing: string[];
}

function projectReferences(text: string): string[] {
  return [...text.matchAll(/\bPRJ-\d{4,}\b/g)].map((match) => match[0]).filter((reference) => KNOWN_PROJECTS.includes(reference));
}

/** Links the CRM must see: the project of every known reference, the client of every known address. */
function requiredLinks(message: StoredMessage): Array<{ type: string; id: string }> {
  const required = new Map<string, { type: string; id: string }>();
  for (const text of [message.subject, ...message.attachments.map((attachment) => attachment.name)]) {
    for (const reference of projectReferences(text)) required.set(`project:p-${reference}`, { type: 'project', id: `p-${reference}` });
  }
  const participants = [message.from, ...message.to, ...message.cc, ...message.bcc, ...message.replyTo].filter((participant) => participant !== null);
  for (const participant of participants) {
    const client = CLIENTS.find((candidate) => candidate.address === participant.address);
    if (client) required.set(`client:${client.id}`, { type: 'client', id: client.id });
    if (participant.address.endsWith(`@${COMPANY_DOMAIN.domain}`)) required.set(`company:${COMPANY_DOMAIN.id}`, { type: 'company', id: COMPANY_DOMAIN.id });
  }
  return [...required.values()];
}

export async function compareConnection(
  store: MetadataStore,
  connection: PublicConnection,
  expected: Map<string, ExpectedMessage>,
): Promise<ConnectionVerdict> {
  const storedIds = await store.listProviderMessageIds(connection.id);
  const counts = new Map<string, number>();
  for (const id of storedIds) counts.set(id, (counts.get(id) ?? 0) + 1);
  const verdict: ConnectionVerdict = {
    connectionId: connection.id,
    accountEmail: connection.accountEmail,
    expected: expected.size,
    missing: [],
    extra: [],
    mismatched: [],
    duplicates: [...counts.values()].reduce((sum, count) => sum + count - 1, 0),
    linksChecked: 0,
    linksMissing: [],
  };
  for (const id of expected.keys()) if (!counts.has(id)) verdict.missing.push(id);
  for (const id of counts.keys()) if (!expected.has(id)) verdict.extra.push(id);
  for (const [id, want] of expected) {
    if (!counts.has(id)) continue;
    const stored = await store.getMessageByProviderId(connection.id, id);
    if (!stored) {
      verdict.missing.push(id);
      continue;
    }
    const problems: string[] = [];
    if (stored.folder !== want.folder) problems.push(`folder ${stored.folder}≠${want.folder}`);
    if ([...stored.labels].sort().join(',') !== want.labels.join(','))
      problems.push(`labels [${[...stored.labels].sort().join(',')}]≠[${want.labels.join(',')}]`);
    if (stored.providerThreadId !== want.providerThreadId) problems.push('thread');
    if (stored.subject !== want.subject) problems.push(`subject ${JSON.stringify(stored.subject)}≠${JSON.stringify(want.subject)}`);
    const storedNames = stored.attachments.map((attachment) => attachment.name).sort();
    if (storedNames.join('|') !== want.attachmentNames.join('|')) problems.push(`attachments [${storedNames.join('|')}]≠[${want.attachmentNames.join('|')}]`);
    if (problems.length > 0) verdict.mismatched.push(`${id}: ${problems.join('; ')}`);
    for (const link of requiredLinks(stored)) {
      verdict.linksChecked += 1;
      const present = stored.links.some((candidate) => candidate.record.type === link.type && candidate.record.id === link.id && !candidate.suppressed);
      if (!present) verdict.linksMissing.push(`${id} → ${link.type}:${link.id}`);
    }
  }
  return verdict;
}

const pick = (row: Record<string, unknown>, ...names: string[]): unknown => names.map((name) => row[name]).find((value) => value !== undefined);

/** Rows sharing (connection, provider message id) in the physical messages table, and links to nothing. */
export function physicalAnomalies(dump: Record<string, unknown[]>): { duplicateRows: number; danglingLinks: number } {
  const messages = (dump.messages ?? []) as Array<Record<string, unknown>>;
  const seen = new Map<string, number>();
  const ids = new Set<string>();
  for (const row of messages) {
    const key = `${String(pick(row, 'connectionId', 'connection_id'))}|${String(pick(row, 'providerMessageId', 'provider_message_id'))}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
    ids.add(String(pick(row, 'id')));
  }
  const links = (dump.record_links ?? dump.links ?? []) as Array<Record<string, unknown>>;
  const danglingLinks = links.filter((row) => !ids.has(String(pick(row, 'messageId', 'message_id')))).length;
  return { duplicateRows: [...seen.values()].reduce((sum, count) => sum + count - 1, 0), danglingLinks };
}

/** Where a canary string shows up: table names, "logs", "events". */
export function canaryHits(canary: string, places: Record<string, unknown>): string[] {
  const hits: string[] = [];
  const needle = canary.toLowerCase();
  for (const [place, content] of Object.entries(places)) {
    const text =
      typeof content === 'string'
        ? content
        : JSON.stringify(content, (_key, value: unknown) =>
            typeof value === 'bigint' ? value.toString() : value instanceof Uint8Array ? Buffer.from(value).toString('latin1') : value,
          );
    if (text.toLowerCase().includes(needle)) hits.push(place);
  }
  return hits;
}

/** Every place a leak could land in a world: each physical table, every log line, every event; plus `extra`. */
export async function leakPlaces(
  world: { backend: { dump(): Promise<Record<string, unknown[]>> }; logs: string[]; events: Array<{ json: string }> },
  extra: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  const dump = await world.backend.dump();
  return {
    ...Object.fromEntries(Object.entries(dump).map(([table, rows]) => [`table ${table}`, rows])),
    logs: world.logs.join('\n'),
    events: world.events.map((event) => event.json).join('\n'),
    ...extra,
  };
}
