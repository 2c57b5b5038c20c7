// The mailbox's folder tree and which folders sync. Every folder is synced except the excluded
// ones (options.ts `excludeFolders`) and everything below them; hidden folders are not listed
// (Graph lists them only with includeHiddenFolders=true). Folder ids are stable across renames
// and moves (resources/mailfolder.md), so the cursor keys its per-folder delta links by id and a
// rename needs nothing; a folder created, moved or deleted (DELETE moves it into Deleted Items)
// is picked up by the next listing (sync.ts refreshes it every FOLDER_LIST_TTL_MS, and at once
// when a moved message lands in a folder it does not know).
import { sha256Hex, ThreadlinkError } from '@threadlink/core/provider';
import type { GraphSession } from './client.js';
import { type FolderIds, WELL_KNOWN_FOLDERS } from './metadata.js';

/** The largest `$top` Graph serves for mail folders (its default page is 10). */
const FOLDER_PAGE_SIZE = 250;
/** Nesting deeper than this is not followed (Outlook allows about 300 levels; nobody files that deep). */
const MAX_DEPTH = 16;
// totalItemCount rides along (a mailFolder property, resources/mailfolder.md): a back-fill's estimated
// total then costs no request of its own (it was a GET per synced folder, in a $batch).
const FOLDER_SELECT = 'id,displayName,parentFolderId,childFolderCount,totalItemCount';

interface MailFolderEntry {
  id: string;
  displayName: string;
  parentFolderId: string;
  /** Items in the folder when it was listed; absent when Graph did not say. */
  totalItemCount?: number;
}

export interface FolderDirectory {
  /** Well-known name → id in this mailbox. */
  folderIds: FolderIds;
  /** Every listed folder (hidden ones aside). */
  folders: MailFolderEntry[];
  /** Ids of the folders to sync. */
  included: string[];
  /** Ids of excluded folders and of everything below them. */
  excluded: string[];
}

interface FolderPage {
  value?: Array<{ id?: string; displayName?: string | null; parentFolderId?: string | null; childFolderCount?: number | null; totalItemCount?: number | null }>;
  '@odata.nextLink'?: string;
}

async function readAllPages(graph: GraphSession, first: string): Promise<Array<MailFolderEntry & { childFolderCount: number }>> {
  const out: Array<MailFolderEntry & { childFolderCount: number }> = [];
  let link: string | undefined = first;
  while (link) {
    const page: FolderPage = await graph.get<FolderPage>(graph.pathOf(link));
    for (const folder of page.value ?? []) {
      if (typeof folder.id !== 'string' || folder.id.length === 0) continue;
      out.push({
        id: folder.id,
        displayName: folder.displayName ?? '',
        parentFolderId: folder.parentFolderId ?? '',
        childFolderCount: folder.childFolderCount ?? 0,
        ...(typeof folder.totalItemCount === 'number' ? { totalItemCount: folder.totalItemCount } : {}),
      });
    }
    link = page['@odata.nextLink'];
  }
  return out;
}

/** The whole tree: the top level, then each level's children (only folders that have any are asked). */
async function listMailFolders(graph: GraphSession): Promise<MailFolderEntry[]> {
  const folders: MailFolderEntry[] = [];
  let level = await readAllPages(graph, `${graph.mailboxPath}/mailFolders?$top=${FOLDER_PAGE_SIZE}&$select=${FOLDER_SELECT}`);
  for (let depth = 0; level.length > 0 && depth < MAX_DEPTH; depth += 1) {
    for (const { childFolderCount: _count, ...folder } of level) folders.push(folder);
    const parents = level.filter((folder) => folder.childFolderCount > 0);
    const next: typeof level = [];
    for (const parent of parents) {
      next.push(
        ...(await readAllPages(
          graph,
          `${graph.mailboxPath}/mailFolders/${encodeURIComponent(parent.id)}/childFolders?$top=${FOLDER_PAGE_SIZE}&$select=${FOLDER_SELECT}`,
        )),
      );
    }
    level = next;
  }
  return folders;
}

/** Ids of the well-known folders in one $batch (folder ids are opaque and differ per mailbox). */
export async function loadFolderIds(graph: GraphSession): Promise<FolderIds> {
  const responses = await graph.batch(
    WELL_KNOWN_FOLDERS.map((name) => ({ id: name, method: 'GET' as const, url: `${graph.mailboxPath}/mailFolders/${name}?$select=id` })),
  );
  const ids: FolderIds = {};
  for (const name of WELL_KNOWN_FOLDERS) {
    const response = responses.get(name);
    const id = (response?.body as { id?: unknown } | undefined)?.id;
    if (response && response.status === 200 && typeof id === 'string' && id.length > 0) ids[name] = id;
  }
  return ids;
}

/** Splits the tree into synced and excluded folders; a folder below an excluded one is excluded. */
function classifyFolders(
  folders: readonly MailFolderEntry[],
  folderIds: FolderIds,
  excludeFolders: readonly string[],
): Pick<FolderDirectory, 'included' | 'excluded'> {
  const rules = excludeFolders.map((entry) => entry.toLowerCase());
  const roots = new Set<string>();
  for (const [name, id] of Object.entries(folderIds)) if (rules.includes(name)) roots.add(id);
  for (const folder of folders) if (rules.includes(folder.displayName.toLowerCase())) roots.add(folder.id);
  const parentOf = new Map(folders.map((folder) => [folder.id, folder.parentFolderId]));
  const isExcluded = (id: string): boolean => {
    let current: string | undefined = id;
    for (let depth = 0; current && depth <= MAX_DEPTH + 1; depth += 1) {
      if (roots.has(current)) return true;
      current = parentOf.get(current);
    }
    return false;
  };
  const included: string[] = [];
  const excluded: string[] = [...roots];
  for (const folder of folders) {
    if (roots.has(folder.id)) continue;
    (isExcluded(folder.id) ? excluded : included).push(folder.id);
  }
  return { included, excluded };
}

export async function loadDirectory(graph: GraphSession, excludeFolders: readonly string[]): Promise<FolderDirectory> {
  const [folderIds, folders] = await Promise.all([loadFolderIds(graph), listMailFolders(graph)]);
  if (folders.length === 0) {
    throw new ThreadlinkError('PROVIDER_ERROR', 'Graph listed no mail folders for this mailbox', { details: { provider: 'outlook' } });
  }
  return { folderIds, folders, ...classifyFolders(folders, folderIds, excludeFolders) };
}

/** Subscriptions one connection may hold: a share of Graph's 1,000 per mailbox that leaves room for other apps. */
const MAX_FOLDER_SUBSCRIPTIONS = 100;

/** The synced folders (in cursor order) that get a subscription of their own. */
export function foldersWithPush(synced: readonly string[]): string[] {
  return synced.slice(0, MAX_FOLDER_SUBSCRIPTIONS);
}

/** A folder's subscription resource; by id, so a rename or move keeps it. */
export function folderResource(mailboxPath: string, folderId: string): string {
  return `${mailboxPath.slice(1)}/mailFolders('${folderId}')/messages`;
}

/** The folder a subscription watches: an id, or a well-known name (subscriptions made before every folder synced). */
export function folderOfResource(resource: string): string | null {
  const match = /mailFolders\('([^']+)'\)/i.exec(resource);
  return match ? (match[1] as string) : null;
}

/** Bounds the remembered tokens (a few dozen folders for each of many mailboxes; then start over). */
const MAX_REMEMBERED_TOKENS = 50_000;
const scopeTokens = new Map<string, string>();

/**
 * A folder as a push hint's scope entry. Core allows scope names of 64 characters from
 * [A-Za-z0-9_.-] (ChangeHint.scope); Graph folder ids are longer and end in '=', so a folder id
 * travels as a short hash of it, which the pull maps back through its cursor (sync.ts). A
 * well-known name (subscriptions made before every folder synced) stays as it is.
 */
export function scopeToken(reference: string): string {
  if (/^[a-z]{1,64}$/.test(reference)) return reference;
  // Every pull maps its scope back through the tokens of all synced folders; folder ids are few
  // and stable, so each is hashed once per process rather than once per pull (issue 21).
  let token = scopeTokens.get(reference);
  if (token === undefined) {
    if (scopeTokens.size >= MAX_REMEMBERED_TOKENS) scopeTokens.clear();
    token = `f-${sha256Hex(reference).slice(0, 24)}`;
    scopeTokens.set(reference, token);
  }
  return token;
}
