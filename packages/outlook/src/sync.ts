// Incremental sync with Graph delta queries, one per synced folder
// (https://learn.microsoft.com/graph/delta-query-messages: message delta is per folder; there is
// no mailbox-wide message delta). The cursor holds the per-folder delta links (or, mid-round, next
// links) keyed by folder id, the ids of the well-known folders so a message's parentFolderId can be
// named, and the excluded folder ids. A push names the folders whose subscriptions fired and its
// pull reads only their delta, plus folders without a subscription yet and stale ones
// (foldersToPull). Moves: an immutable id moved between folders shows as `@removed` in the
// source's delta and as an item in the target's; materialize (fetch-messages.ts) turns a removal
// into a delete only when Graph no longer has the message in a synced folder.
import { mapWithConcurrency, sha256Hex, ThreadlinkError, type ProviderSession, type PullOptions, type PullResult } from '@threadlink/core/provider';
import { z } from 'zod';
import { graphFor, type GraphSession, type OutlookContext } from './client.js';
import { materialize, type Listed } from './fetch-messages.js';
import { folderOfResource, foldersWithPush, loadDirectory, scopeToken, type FolderDirectory } from './folders.js';
import { METADATA_SELECT, WELL_KNOWN_FOLDERS, type FolderIds, type GraphMessage } from './metadata.js';
import { readsAttachmentNames } from './options.js';
import { MAILBOX_CONCURRENCY } from './rate-limit.js';

/** Pages read per folder in one pullChanges call before handing back `hasMore` (bounds memory and lease time). */
const MAX_PAGES_PER_PULL = 10;

/**
 * A folder whose delta was not read for this long is read along with a scoped pull: pushes for
 * other folders keep the mailbox's last sync fresh, so core's safety net (a pull after 10 minutes
 * without a sync, by default) would never reach a folder whose own subscription died silently.
 */
export const STALE_FOLDER_MS = 10 * 60_000;
/** The folder tree is listed again after this long (folders created, moved or deleted meanwhile). */
const FOLDER_LIST_TTL_MS = 10 * 60_000;

const FolderIdsSchema = z.partialRecord(z.enum(WELL_KNOWN_FOLDERS), z.string().min(1));

/** The cursor before every folder was synced: links keyed by well-known name (inbox, sentitems). */
const DeltaCursorV1 = z.strictObject({
  v: z.literal(1),
  links: z.partialRecord(z.enum(['inbox', 'sentitems']), z.string().min(1)),
  folderIds: FolderIdsSchema,
  pulledAt: z.partialRecord(z.enum(['inbox', 'sentitems']), z.number().int().nonnegative()).optional(),
});

const DeltaCursor = z.strictObject({
  v: z.literal(2),
  /** Per synced folder id: the deltaLink of the last complete round, or a nextLink while a round is unfinished. */
  links: z.record(z.string().min(1), z.string().min(1)),
  folderIds: FolderIdsSchema,
  /** Ids of excluded folders (and of folders below them) at the last listing. */
  excluded: z.array(z.string().min(1)),
  /** When the folder tree was last listed (epoch ms); 0 = list it at the next pull. */
  listedAt: z.number().int().nonnegative(),
  /** Per folder id: when its delta was last read (epoch ms). Absent: stale. */
  pulledAt: z.record(z.string().min(1), z.number().int().nonnegative()).optional(),
  /** Fingerprint of the folder tree (ids, names, parents) at the last listing: a change → labelsChanged. */
  tree: z.string().optional(),
});
export type DeltaCursor = z.infer<typeof DeltaCursor>;

export function encodeCursor(cursor: DeltaCursor): string {
  return JSON.stringify(cursor);
}

/**
 * A cursor we cannot read is as good as an expired one: the engine resyncs. A v1 cursor (Inbox
 * and Sent Items only) keeps its two links and is marked for a folder listing, whose new folders
 * start with a full delta round: Archive and user folders are then back-filled by the pulls.
 */
export function decodeCursor(raw: string): DeltaCursor {
  let json: unknown;
  try {
    json = JSON.parse(raw);
    // Checked for the current version first: a v1 parse of every v2 cursor fails, and building
    // zod's issues for that failure cost more than the rest of the decode (issue 21).
    const current = DeltaCursor.safeParse(json);
    if (current.success) {
      if (Object.keys(current.data.links).length === 0) throw new Error('cursor without folders');
      return current.data;
    }
    const v1 = DeltaCursorV1.safeParse(json);
    if (v1.success) {
      const links: Record<string, string> = {};
      const pulledAt: Record<string, number> = {};
      for (const [name, link] of Object.entries(v1.data.links)) {
        const id = v1.data.folderIds[name as 'inbox' | 'sentitems'];
        if (!id) throw new Error(`v1 cursor without the id of ${name}`);
        links[id] = link;
        const at = v1.data.pulledAt?.[name as 'inbox' | 'sentitems'];
        if (at !== undefined) pulledAt[id] = at;
      }
      return { v: 2, links, folderIds: v1.data.folderIds, excluded: [], listedAt: 0, pulledAt };
    }
    throw current.error;
  } catch (cause) {
    throw new ThreadlinkError('CURSOR_EXPIRED', 'Unreadable Outlook cursor; a full resync is needed', { cause, details: { provider: 'outlook' } });
  }
}

export interface DeltaQuery {
  /** Only messages received at or after this instant (the one `$filter` message delta supports). */
  receivedSince?: number;
  /** Newest first: `$orderby=receivedDateTime desc` is the one ordering message delta supports. */
  newestFirst?: boolean;
  /**
   * `$select=id`: a reconciliation lists ids only and reads just the ones it does not store.
   * Core keeps its own cursor after such a round (engine/jobs/resync.ts), so live sync never
   * follows these links; were it to, items would arrive partial and be re-read by id.
   */
  idsOnly?: boolean;
}

/** The first request of a delta round for a folder (by id). `$select` is encoded into every later link. */
export function deltaStartPath(mailboxPath: string, folderId: string, query: DeltaQuery = {}): string {
  const parts = [`$select=${query.idsOnly ? 'id' : METADATA_SELECT}`];
  if (query.receivedSince !== undefined) {
    parts.push(`$filter=${encodeURIComponent(`receivedDateTime ge ${new Date(query.receivedSince).toISOString()}`)}`);
  }
  if (query.newestFirst) parts.push(`$orderby=${encodeURIComponent('receivedDateTime desc')}`);
  return `${mailboxPath}/mailFolders/${encodeURIComponent(folderId)}/messages/delta?${parts.join('&')}`;
}

export interface DeltaPage {
  items: GraphMessage[];
  nextLink: string | null;
  deltaLink: string | null;
}

export async function readDeltaPage(graph: GraphSession, link: string, pageSize: number): Promise<DeltaPage> {
  const page = await graph.get<{ value?: GraphMessage[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string }>(graph.pathOf(link), {
    headers: { Prefer: `odata.maxpagesize=${pageSize}` },
  });
  const nextLink = page['@odata.nextLink'] ?? null;
  const deltaLink = page['@odata.deltaLink'] ?? null;
  if (nextLink === null && deltaLink === null) {
    throw new ThreadlinkError('PROVIDER_ERROR', 'A Graph delta page carried neither a nextLink nor a deltaLink', { details: { provider: 'outlook' } });
  }
  return { items: page.value ?? [], nextLink, deltaLink };
}

/** Follows a round to its deltaLink, discarding items (the initial cursor at subscribe). */
export async function walkToDeltaLink(graph: GraphSession, start: string, pageSize: number): Promise<string> {
  let link = start;
  for (;;) {
    const page = await readDeltaPage(graph, link, pageSize);
    if (page.deltaLink) return page.deltaLink;
    link = page.nextLink as string;
  }
}

/**
 * The cursor after a folder listing: folders now synced that it lacks start a full delta round
 * (a new folder, one moved out of an excluded folder, or — from a v1 cursor — Archive and user
 * folders: their existing mail is back-filled that way); folders gone or now excluded are dropped.
 */
export function withDirectory(mailboxPath: string, cursor: DeltaCursor, directory: FolderDirectory, now: number): DeltaCursor {
  const links: Record<string, string> = {};
  const pulledAt: Record<string, number> = {};
  for (const id of directory.included) {
    links[id] = cursor.links[id] ?? deltaStartPath(mailboxPath, id);
    const at = cursor.pulledAt?.[id];
    if (at !== undefined) pulledAt[id] = at;
  }
  return { v: 2, links, folderIds: directory.folderIds, excluded: directory.excluded, listedAt: now, pulledAt, tree: treeFingerprint(directory) };
}

/** Changes when a folder is created, renamed, moved or deleted (core then re-reads listLabels). */
export function treeFingerprint(directory: Pick<FolderDirectory, 'folders'>): string {
  const lines = directory.folders.map((folder) => `${folder.id}\u0000${folder.displayName}\u0000${folder.parentFolderId}`).sort();
  return sha256Hex(lines.join('\n'));
}

/** A subscription's folder (an id, or a well-known name in subscriptions made before every folder synced) → its id. */
export function folderIdOf(reference: string, folderIds: FolderIds): string {
  return (folderIds as Record<string, string | undefined>)[reference.toLowerCase()] ?? reference;
}

interface PullCall {
  graph: GraphSession;
  session: ProviderSession;
  excludeFolders: readonly string[];
  pageSize: number;
  withAttachments: boolean;
}

/**
 * The folders a pull reads: all of them, or — for a push's scope — the notified folders plus
 * folders without a subscription of their own yet (created since the last subscribe/renew) and
 * any folder gone stale. Scope names the cursor does not know widen the pull to everything.
 */
function foldersToPull(cursor: DeltaCursor, subscribed: ReadonlySet<string>, scope: readonly string[] | undefined, now: number): string[] {
  const all = Object.keys(cursor.links);
  if (!scope || scope.length === 0) return all;
  // Scope entries are scope tokens of folder ids, or well-known names from older subscriptions.
  const byToken = new Map(all.map((id) => [scopeToken(id), id]));
  const notified = scope.map((entry) => byToken.get(entry) ?? folderIdOf(entry, cursor.folderIds));
  if (notified.some((id) => !all.includes(id))) return all;
  return all.filter((id) => notified.includes(id) || !subscribed.has(id) || now - (cursor.pulledAt?.[id] ?? 0) >= STALE_FOLDER_MS);
}

/** Folder ids the connection's subscriptions watch (subscribe.ts names the folder in the resource). */
function subscribedFolders(session: ProviderSession, folderIds: FolderIds): Set<string> {
  const out = new Set<string>();
  for (const item of session.connection.subscription?.items ?? []) {
    const folder = folderOfResource(item.resource);
    if (folder !== null) out.add(folderIdOf(folder, folderIds));
  }
  return out;
}

interface Walked {
  folder: string;
  link: string;
  listed: Listed[];
  done: boolean;
}

async function walkFolders(context: PullCall, cursor: DeltaCursor, folders: readonly string[]): Promise<Walked[]> {
  return mapWithConcurrency(folders, MAILBOX_CONCURRENCY, async (folder) => {
    let link = cursor.links[folder] as string;
    const listed: Listed[] = [];
    for (let page = 0; page < MAX_PAGES_PER_PULL; page += 1) {
      const result = await readDeltaPage(context.graph, link, context.pageSize);
      for (const item of result.items) listed.push({ folder, item });
      if (result.deltaLink) return { folder, link: result.deltaLink, listed, done: true };
      link = result.nextLink as string;
    }
    return { folder, link, listed, done: false };
  });
}

export async function pullChanges(provider: OutlookContext, session: ProviderSession, rawCursor: string, options: PullOptions = {}): Promise<PullResult> {
  const context: PullCall = {
    graph: graphFor(provider, session),
    session,
    excludeFolders: provider.options.excludeFolders,
    pageSize: provider.options.pageSize,
    withAttachments: readsAttachmentNames(provider.options),
  };
  const now = context.session.clock.now();
  const stored = decodeCursor(rawCursor);
  let cursor = stored;
  if (now - cursor.listedAt >= FOLDER_LIST_TTL_MS)
    cursor = withDirectory(context.graph.mailboxPath, cursor, await loadDirectory(context.graph, context.excludeFolders), now);
  const subscribed = subscribedFolders(session, cursor.folderIds);
  const chosen = foldersToPull(cursor, subscribed, options.scope, now);
  const walked = await walkFolders(context, cursor, chosen);

  const excluded = new Set(cursor.excluded);
  const synced = new Set(Object.keys(cursor.links));
  const { changes, unknownFolders } = await materialize({
    graph: context.graph,
    session: context.session,
    folderIds: cursor.folderIds,
    withAttachments: context.withAttachments,
    listed: walked.flatMap((entry) => entry.listed),
    folderState: (id) => (synced.has(id) ? 'synced' : excluded.has(id) ? 'excluded' : 'unknown'),
  });
  // Folders not read keep their links: their changes wait, unread, for the next pull that reads them.
  const links = { ...cursor.links };
  const pulledAt = { ...cursor.pulledAt };
  for (const entry of walked) {
    links[entry.folder] = entry.link;
    pulledAt[entry.folder] = now;
  }
  let next: DeltaCursor = { ...cursor, links, pulledAt };
  // A message moved into a folder the cursor does not know: a folder created (or moved out of an
  // excluded one) since the last listing. List again now; the new folder's first delta round is
  // read by the next pull (hasMore), as it has no subscription yet.
  if (unknownFolders.length > 0) next = withDirectory(context.graph.mailboxPath, next, await loadDirectory(context.graph, context.excludeFolders), now);
  let newest: number | undefined;
  for (const change of changes) {
    if (change.type === 'upsert') newest = Math.max(newest ?? 0, change.message.receivedAt);
  }
  // Folders created, renamed, moved or deleted since the last listing (a cursor without a fingerprint
  // had none taken: its directory may be anything, so say so).
  const labelsChanged = next.tree !== undefined && next.tree !== stored.tree;
  // A folder this pull's listing added, without a subscription: core renews at once, which
  // subscribes it, so mail a rule files straight into it comes by push from then on.
  const pushCoverageChanged =
    session.connection.subscription != null && foldersWithPush(Object.keys(next.links)).some((id) => !(id in stored.links) && !subscribed.has(id));
  return {
    changes,
    nextCursor: encodeCursor(next),
    ...(labelsChanged ? { labelsChanged } : {}),
    ...(pushCoverageChanged ? { pushCoverageChanged } : {}),
    hasMore: walked.some((entry) => !entry.done) || Object.keys(next.links).some((id) => !(id in links)),
    ...(newest === undefined ? {} : { newestChangeAt: newest }),
  };
}
