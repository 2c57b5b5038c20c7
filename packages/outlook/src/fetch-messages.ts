// Reads message metadata Graph did not hand over whole: delta items that carry only the changed
// properties are re-read by id, and attachment names (which Mail.ReadBasic cannot see and delta
// never lists) are read for messages that have any, all in $batch round trips of 20
// (client.ts), each inner request counted against the mailbox's 4 concurrent requests
// (rate-limit.ts). The answer is Changes, mapped by metadata.ts.
import type { Change, ProviderMessage, ProviderSession } from '@threadlink/core/provider';
import type { BatchRequest, GraphSession } from './client.js';
import { batchAnswerError } from './errors.js';
import {
  ATTACHMENT_SELECT,
  classifyFolder,
  isPartial,
  METADATA_SELECT,
  toAttachmentMeta,
  toProviderMessageOrSkip,
  type FolderIds,
  type GraphMessage,
  type WellKnownFolder,
} from './metadata.js';

export interface Listed {
  folder: WellKnownFolder;
  item: GraphMessage;
}

export interface MaterializeInput {
  graph: GraphSession;
  session: ProviderSession;
  folderIds: FolderIds;
  /** Attachment names need Mail.Read; Mail.ReadBasic cannot read attachments at all. */
  withAttachments: boolean;
  listed: Listed[];
}

/**
 * Turns delta items into changes: `@removed` → delete; partial items (Graph sends only the
 * changed properties for some updates) are re-read by id; attachment names of messages that
 * have any are read in the same $batch round trips.
 */
export async function materialize(input: MaterializeInput): Promise<Change[]> {
  const { graph, session, folderIds, withAttachments } = input;
  const latest = new Map<string, Listed>();
  // Graph may list an item more than once in a round; the last listing is its current state.
  for (const entry of input.listed) latest.set(entry.item.id, entry);

  const present = [...latest.values()].filter((entry) => entry.item['@removed'] === undefined);
  const removed = [...latest.values()].filter((entry) => entry.item['@removed'] !== undefined);

  const requests: BatchRequest[] = [];
  for (const { item } of present) {
    const path = `/me/messages/${encodeURIComponent(item.id)}`;
    if (isPartial(item)) requests.push({ id: `m:${item.id}`, method: 'GET', url: `${path}?$select=${METADATA_SELECT}` });
    if (withAttachments && (item.hasAttachments === true || isPartial(item))) {
      requests.push({ id: `a:${item.id}`, method: 'GET', url: `${path}/attachments?$select=${ATTACHMENT_SELECT}` });
    }
  }
  const responses = requests.length > 0 ? await graph.batch(requests) : new Map();

  const changes: Change[] = [];
  const upserted = new Set<string>();
  for (const { folder, item } of present) {
    let message = item;
    if (isPartial(item)) {
      const response = responses.get(`m:${item.id}`);
      if (response?.status === 404) {
        changes.push({ type: 'delete', providerMessageId: item.id });
        continue;
      }
      if (response?.status !== 200) throw batchAnswerError(response?.status ?? 0, 'message metadata');
      message = { ...(response.body as GraphMessage), id: item.id };
    }
    if (message.isDraft === true) continue;
    const folderClass = classifyFolder(message.parentFolderId, folderIds, folder);
    if (folderClass === 'deleted') {
      changes.push({ type: 'delete', providerMessageId: item.id });
      continue;
    }
    let attachments: ProviderMessage['attachments'] = [];
    const attachmentResponse = responses.get(`a:${item.id}`);
    if (attachmentResponse && attachmentResponse.status === 200) {
      const value = (attachmentResponse.body as { value?: unknown[] } | undefined)?.value ?? [];
      attachments = value.map(toAttachmentMeta).filter((entry) => entry !== null);
    } else if (attachmentResponse && attachmentResponse.status !== 404) {
      throw batchAnswerError(attachmentResponse.status, 'attachment names');
    }
    const mapped = toProviderMessageOrSkip(
      { message, folder: folderClass, accountEmail: session.connection.accountEmail, attachments, now: session.clock.now() },
      session,
    );
    if (!mapped) continue;
    changes.push({ type: 'upsert', message: mapped });
    upserted.add(item.id);
  }
  // An immutable id moved between two tracked folders is removed from one and listed in the
  // other within the same pull: the listing is the current state, so the removal is dropped.
  for (const { item } of removed) if (!upserted.has(item.id)) changes.push({ type: 'delete', providerMessageId: item.id });
  return changes;
}
