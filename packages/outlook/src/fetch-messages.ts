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
} from './metadata.js';

export interface Listed {
  /** Id of the folder whose delta listed the item. */
  folder: string;
  item: GraphMessage;
}

/** Where a folder stands: synced (in the cursor), excluded, or not known (created since the last listing). */
type FolderState = 'synced' | 'excluded' | 'unknown';

export interface MaterializeInput {
  graph: GraphSession;
  session: ProviderSession;
  folderIds: FolderIds;
  /** Attachment names need Mail.Read; Mail.ReadBasic cannot read attachments at all. */
  withAttachments: boolean;
  listed: Listed[];
  /** Live sync passes it: removals are then checked against Graph (a move is not a delete). */
  folderState?: (folderId: string) => FolderState;
}

export interface Materialized {
  changes: Change[];
  /** Folders a moved message now lives in that the caller does not know yet. */
  unknownFolders: string[];
}

/**
 * A folder's delta reports `@removed` both for a delete and for a move out of the folder, and the
 * target folder's delta may be read in another pull, before or after. So a removal of an id not
 * listed elsewhere in this pull is checked with one read of the message by immutable id (in a
 * $batch): 404 → deleted; in a synced or new folder → the message as it is now (its folder
 * updated); in an excluded folder (Deleted Items, Junk Email, …) → delete.
 */
async function resolveRemovals(input: MaterializeInput, removed: Listed[]): Promise<{ moved: Listed[]; deleted: string[]; unknownFolders: string[] }> {
  const folderState = input.folderState;
  if (!folderState || removed.length === 0) return { moved: [], deleted: removed.map(({ item }) => item.id), unknownFolders: [] };
  const responses = await input.graph.batch(
    removed.map(({ item }) => ({
      id: item.id,
      method: 'GET' as const,
      url: `${input.graph.mailboxPath}/messages/${encodeURIComponent(item.id)}?$select=${METADATA_SELECT}`,
    })),
  );
  const moved: Listed[] = [];
  const deleted: string[] = [];
  const unknownFolders = new Set<string>();
  for (const { item } of removed) {
    const response = responses.get(item.id);
    if (response?.status === 404) {
      deleted.push(item.id);
      continue;
    }
    if (response?.status !== 200) throw batchAnswerError(response?.status ?? 0, 'moved message');
    const current = { ...(response.body as GraphMessage), id: item.id };
    const parent = current.parentFolderId ?? '';
    const state = parent ? folderState(parent) : 'excluded';
    if (state === 'excluded') {
      deleted.push(item.id);
      continue;
    }
    if (state === 'unknown') unknownFolders.add(parent);
    moved.push({ folder: parent, item: current });
  }
  return { moved, deleted, unknownFolders: [...unknownFolders] };
}

/**
 * Turns delta items into changes: `@removed` → delete, or the message's new folder when it only
 * moved (resolveRemovals); partial items (Graph sends only the changed properties for some
 * updates) are re-read by id; attachment names of messages that have any are read in the same
 * $batch round trips.
 */
export async function materialize(input: MaterializeInput): Promise<Materialized> {
  const { graph, session, folderIds, withAttachments } = input;
  // Graph may list an item more than once in a folder's round; the last listing is its state there.
  const perFolder = new Map<string, Listed>();
  for (const entry of input.listed) perFolder.set(`${entry.folder}\u0000${entry.item.id}`, entry);
  // Across folders, a listing wins over a removal: a move between two synced folders read in the
  // same pull is removed from one and listed in the other, and the listing is the current state.
  const listedPresent = new Map<string, Listed>();
  const removedById = new Map<string, Listed>();
  for (const entry of perFolder.values()) {
    if (entry.item['@removed'] === undefined) listedPresent.set(entry.item.id, entry);
    else removedById.set(entry.item.id, entry);
  }
  const removed = [...removedById.values()].filter((entry) => !listedPresent.has(entry.item.id));
  const resolved = await resolveRemovals(input, removed);
  const present = [...listedPresent.values(), ...resolved.moved];

  const requests: BatchRequest[] = [];
  for (const { item } of present) {
    const path = `${input.graph.mailboxPath}/messages/${encodeURIComponent(item.id)}`;
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
    if (folderClass === 'deleted' || (message.parentFolderId && input.folderState?.(message.parentFolderId) === 'excluded')) {
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
      {
        message,
        folder: folderClass,
        accountEmail: session.connection.accountEmail,
        attachments,
        now: session.clock.now(),
        folderId: message.parentFolderId || folder,
      },
      session,
    );
    if (!mapped) continue;
    changes.push({ type: 'upsert', message: mapped });
    upserted.add(item.id);
  }
  for (const id of resolved.deleted) if (!upserted.has(id)) changes.push({ type: 'delete', providerMessageId: id });
  return { changes, unknownFolders: resolved.unknownFolders };
}
