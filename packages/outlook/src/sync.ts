// Incremental sync with Graph delta queries, one per folder
// (https://learn.microsoft.com/graph/delta-query-messages). The cursor is the per-folder
// delta links (or, mid-round, next links) serialised as JSON, plus the ids of the
// well-known folders so a message's parentFolderId can be named. A push names the folders
// whose subscriptions fired, and its pull reads only their delta (see foldersToPull).
import { mapWithConcurrency, ThreadlinkError, type ProviderSession, type PullOptions, type PullResult } from '@threadlink/core/provider';
import { z } from 'zod';
import { graphFor, type GraphSession, type OutlookContext } from './client.js';
import { materialize, type Listed } from './fetch-messages.js';
import { METADATA_SELECT, WELL_KNOWN_FOLDERS, type FolderIds, type GraphMessage } from './metadata.js';
import { OutlookFolder, readsAttachmentNames } from './options.js';
import { MAILBOX_CONCURRENCY } from './rate-limit.js';

/** Pages read per folder in one pullChanges call before handing back `hasMore` (bounds memory and lease time). */
const MAX_PAGES_PER_PULL = 10;

/**
 * A folder whose delta was not read for this long is read along with a scoped pull: pushes for
 * other folders keep the mailbox's last sync fresh, so core's safety net (a pull after 10 minutes
 * without a sync, by default) would never reach a folder whose own subscription died silently.
 */
export const STALE_FOLDER_MS = 10 * 60_000;

const FolderIdsSchema = z.partialRecord(z.enum(['inbox', 'sentitems', 'deleteditems', 'junkemail', 'drafts']), z.string().min(1));

const DeltaCursor = z.strictObject({
  v: z.literal(1),
  /** Per folder: the deltaLink of the last complete round, or a nextLink while a round is unfinished. */
  links: z.partialRecord(OutlookFolder, z.string().min(1)),
  folderIds: FolderIdsSchema,
  /** Per folder: when its delta was last read (epoch ms). Absent (older cursors): stale. */
  pulledAt: z.partialRecord(OutlookFolder, z.number().int().nonnegative()).optional(),
});
export type DeltaCursor = z.infer<typeof DeltaCursor>;

export function encodeCursor(cursor: DeltaCursor): string {
  return JSON.stringify(cursor);
}

/** A cursor we cannot read is as good as an expired one: the engine resyncs. */
export function decodeCursor(raw: string, folders: readonly OutlookFolder[]): DeltaCursor {
  let parsed: DeltaCursor;
  try {
    parsed = DeltaCursor.parse(JSON.parse(raw));
  } catch (cause) {
    throw new ThreadlinkError('CURSOR_EXPIRED', 'Unreadable Outlook cursor; a full resync is needed', { cause, details: { provider: 'outlook' } });
  }
  const missing = folders.filter((folder) => !parsed.links[folder]);
  if (missing.length > 0) {
    throw new ThreadlinkError('CURSOR_EXPIRED', `The cursor has no delta link for ${missing.join(', ')}; a full resync is needed`, {
      details: { provider: 'outlook' },
    });
  }
  return parsed;
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

/** The first request of a delta round for a folder. `$select` is encoded into every later link. */
export function deltaStartPath(folder: OutlookFolder, query: DeltaQuery = {}): string {
  const parts = [`$select=${query.idsOnly ? 'id' : METADATA_SELECT}`];
  if (query.receivedSince !== undefined) {
    parts.push(`$filter=${encodeURIComponent(`receivedDateTime ge ${new Date(query.receivedSince).toISOString()}`)}`);
  }
  if (query.newestFirst) parts.push(`$orderby=${encodeURIComponent('receivedDateTime desc')}`);
  return `/me/mailFolders/${folder}/messages/delta?${parts.join('&')}`;
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

/** Ids of the well-known folders in one $batch (folder ids are opaque and differ per mailbox). */
export async function loadFolderIds(graph: GraphSession): Promise<FolderIds> {
  const responses = await graph.batch(WELL_KNOWN_FOLDERS.map((name) => ({ id: name, method: 'GET' as const, url: `/me/mailFolders/${name}?$select=id` })));
  const ids: FolderIds = {};
  for (const name of WELL_KNOWN_FOLDERS) {
    const response = responses.get(name);
    const id = (response?.body as { id?: unknown } | undefined)?.id;
    if (response && response.status === 200 && typeof id === 'string' && id.length > 0) ids[name] = id;
  }
  return ids;
}

interface PullCall {
  graph: GraphSession;
  session: ProviderSession;
  folders: readonly OutlookFolder[];
  pageSize: number;
  withAttachments: boolean;
}

/**
 * The folders a pull reads: all of them, or — for a push's scope — the notified folders plus any
 * folder gone stale. Scope names the adapter does not track widen the pull to everything.
 */
function foldersToPull(folders: readonly OutlookFolder[], cursor: DeltaCursor, scope: readonly string[] | undefined, now: number): OutlookFolder[] {
  if (!scope || scope.length === 0 || scope.some((name) => !folders.includes(name as OutlookFolder))) return [...folders];
  return folders.filter((folder) => scope.includes(folder) || now - (cursor.pulledAt?.[folder] ?? 0) >= STALE_FOLDER_MS);
}

interface Walked {
  folder: OutlookFolder;
  link: string;
  listed: Listed[];
  done: boolean;
}

async function walkFolders(context: PullCall, cursor: DeltaCursor, folders: readonly OutlookFolder[]): Promise<Walked[]> {
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
    folders: provider.options.folders,
    pageSize: provider.options.pageSize,
    withAttachments: readsAttachmentNames(provider.options),
  };
  const cursor = decodeCursor(rawCursor, context.folders);
  const now = context.session.clock.now();
  const chosen = foldersToPull(context.folders, cursor, options.scope, now);
  const walked = await walkFolders(context, cursor, chosen);
  const rest = context.folders.filter((folder) => !chosen.includes(folder));
  if (rest.length > 0 && walked.some((entry) => entry.listed.some(({ item }) => item['@removed'] !== undefined))) {
    // A removal may be a move into another tracked folder: only a pull that also lists that folder
    // can tell (materialize drops the removal of an id listed elsewhere), so read the others too.
    walked.push(...(await walkFolders(context, cursor, rest)));
  }

  const changes = await materialize({
    graph: context.graph,
    session: context.session,
    folderIds: cursor.folderIds,
    withAttachments: context.withAttachments,
    listed: walked.flatMap((entry) => entry.listed),
  });
  // Folders not read keep their links: their changes wait, unread, for the next pull that reads them.
  const links = { ...cursor.links };
  const pulledAt = { ...cursor.pulledAt };
  for (const entry of walked) {
    links[entry.folder] = entry.link;
    pulledAt[entry.folder] = now;
  }
  let newest: number | undefined;
  for (const change of changes) {
    if (change.type === 'upsert') newest = Math.max(newest ?? 0, change.message.receivedAt);
  }
  return {
    changes,
    nextCursor: encodeCursor({ v: 1, links, folderIds: cursor.folderIds, pulledAt }),
    hasMore: walked.some((entry) => !entry.done),
    ...(newest === undefined ? {} : { newestChangeAt: newest }),
  };
}
