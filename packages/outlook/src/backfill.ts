// Back-fill (and resync after CURSOR_EXPIRED): a fresh delta round per synced folder (every folder
// but the excluded ones, listed at the start: Archive and user folders included), newest first
// (`$orderby=receivedDateTime desc`, optionally `$filter=receivedDateTime ge since` — the only
// ordering and filter message delta supports). One call reads one page of every unfinished
// folder; the resume token holds each folder's nextLink, so a restart resumes where it stopped.
// When every folder reaches its deltaLink, those links are the cursor: incremental sync then
// covers everything after the listing, including changes to back-filled messages. A resync passes
// the ids it stores (`known`): the round then selects `id` only at the largest page Graph serves
// for messages (MAX_PAGE_SIZE), and only ids not stored are read, by $batch. After a 410 core also
// passes each stored message's labels (`knownLabels`: its folder id): a stored message listed by
// another folder's delta than the one stored was moved while the links were expired and is read
// again; the comparison itself costs nothing, every delta round is per folder already.
import {
  mapWithConcurrency,
  ThreadlinkError,
  type FullSyncOptions,
  type FullSyncPage,
  type ProviderMessage,
  type ProviderSession,
} from '@threadlink/core/provider';
import { z } from 'zod';
import { graphFor, type GraphSession, type OutlookContext } from './client.js';
import { materialize, type Listed } from './fetch-messages.js';
import { loadDirectory, type FolderDirectory } from './folders.js';
import { WELL_KNOWN_FOLDERS } from './metadata.js';
import { readsAttachmentNames } from './options.js';
import { deltaStartPath, encodeCursor, readDeltaPage, treeFingerprint } from './sync.js';
import { MAILBOX_CONCURRENCY } from './rate-limit.js';

const DEFAULT_PAGE_SIZE = 100;
/** The largest `Prefer: odata.maxpagesize` Graph honours for messages. */
const MAX_PAGE_SIZE = 1000;

const ResumeToken = z.strictObject({
  v: z.literal(2),
  /** Per synced folder id: the nextLink still to read, or the deltaLink once the folder is complete. */
  folders: z.record(z.string().min(1), z.strictObject({ link: z.string().min(1), done: z.boolean() })),
  folderIds: z.partialRecord(z.enum(WELL_KNOWN_FOLDERS), z.string().min(1)),
  excluded: z.array(z.string().min(1)),
  /** When the folders were listed (the cursor's listedAt once the back-fill completes). */
  listedAt: z.number().int().nonnegative(),
  tree: z.string().optional(),
  estimatedTotal: z.number().int().nonnegative().optional(),
});
type ResumeToken = z.infer<typeof ResumeToken>;

interface BackfillCall {
  graph: GraphSession;
  session: ProviderSession;
  excludeFolders: readonly string[];
  withAttachments: boolean;
}

/** The synced folders' item counts from the listing, summed; undefined when one was not given. */
function folderTotals(directory: FolderDirectory): number | undefined {
  const countOf = new Map(directory.folders.map((folder) => [folder.id, folder.totalItemCount]));
  let total = 0;
  for (const folder of directory.included) {
    const count = countOf.get(folder);
    if (count === undefined) return undefined;
    total += count;
  }
  return total;
}

function decodeResume(raw: string): ResumeToken {
  try {
    return ResumeToken.parse(JSON.parse(raw));
  } catch (cause) {
    // A token from another version or a corrupted row: restart the listing rather than fail forever.
    throw new ThreadlinkError('CURSOR_EXPIRED', 'Unreadable Outlook back-fill resume token', { cause, details: { provider: 'outlook' } });
  }
}

export async function fullSync(provider: OutlookContext, session: ProviderSession, resume: string | null, options: FullSyncOptions): Promise<FullSyncPage> {
  const context: BackfillCall = {
    graph: graphFor(provider, session),
    session,
    excludeFolders: provider.options.excludeFolders,
    withAttachments: readsAttachmentNames(provider.options),
  };
  const known = options.known;
  const pageSize = known ? MAX_PAGE_SIZE : Math.min(MAX_PAGE_SIZE, Math.max(1, options.pageSize ?? DEFAULT_PAGE_SIZE));
  let state: ResumeToken;
  if (resume === null) {
    const directory = await loadDirectory(context.graph, context.excludeFolders);
    // A folder's item count is the total only when the whole folder is listed.
    const estimatedTotal = options.since === undefined ? folderTotals(directory) : undefined;
    const query = { newestFirst: true, idsOnly: known !== undefined, ...(options.since === undefined ? {} : { receivedSince: options.since }) };
    state = {
      v: 2,
      folders: Object.fromEntries(
        directory.included.map((folder) => [folder, { link: deltaStartPath(context.graph.mailboxPath, folder, query), done: false }]),
      ),
      folderIds: directory.folderIds,
      excluded: directory.excluded,
      listedAt: context.session.clock.now(),
      tree: treeFingerprint(directory),
      ...(estimatedTotal === undefined ? {} : { estimatedTotal }),
    };
  } else {
    state = decodeResume(resume);
  }

  const synced = Object.keys(state.folders);
  const open = synced.filter((folder) => !state.folders[folder]?.done);
  const pages = await mapWithConcurrency(open, MAILBOX_CONCURRENCY, async (folder) => {
    const position = state.folders[folder];
    if (!position) throw new ThreadlinkError('CURSOR_EXPIRED', `Back-fill resume token lacks ${folder}`, { details: { provider: 'outlook' } });
    const page = await readDeltaPage(context.graph, position.link, pageSize);
    return { folder, page };
  });

  const listed: Listed[] = [];
  const unchanged: string[] = [];
  const folders = { ...state.folders };
  for (const { folder, page } of pages) {
    // An initial round lists what is there; `@removed` entries in it are noise. Every synced folder
    // keeps its messages (excluded ones are not listed), so a stored id listed in one is unchanged.
    for (const item of page.items) {
      if (item['@removed'] !== undefined) continue;
      const storedLabels = options.knownLabels?.get(item.id);
      const moved = storedLabels !== undefined && !storedLabels.includes(folder);
      if (known?.has(item.id) && !moved) unchanged.push(item.id);
      else listed.push({ folder, item });
    }
    folders[folder] = page.deltaLink ? { link: page.deltaLink, done: true } : { link: page.nextLink as string, done: false };
  }

  const { changes } = await materialize({
    graph: context.graph,
    session: context.session,
    folderIds: state.folderIds,
    withAttachments: context.withAttachments,
    listed,
  });
  const messages: ProviderMessage[] = [];
  for (const change of changes) if (change.type === 'upsert') messages.push(change.message);
  // Pages of two folders interleave; keep the page itself newest first.
  messages.sort((left, right) => right.receivedAt - left.receivedAt);

  const complete = synced.every((folder) => folders[folder]?.done);
  const next: ResumeToken = { ...state, folders };
  const reported = {
    ...(state.estimatedTotal === undefined ? {} : { estimatedTotal: state.estimatedTotal }),
    ...(known ? { unchanged } : {}),
  };
  if (!complete) return { messages, next: JSON.stringify(next), ...reported };
  const links = Object.fromEntries(synced.map((folder) => [folder, (folders[folder] as { link: string }).link]));
  // Every folder's delta was read to its end during this listing: none is stale (sync.ts STALE_FOLDER_MS).
  const now = context.session.clock.now();
  const pulledAt = Object.fromEntries(synced.map((folder) => [folder, now]));
  // The folder list is as old as the back-fill's start: a pull lists the folders again once that is past due.
  return {
    messages,
    next: null,
    ...reported,
    cursor: encodeCursor({
      v: 2,
      links,
      folderIds: state.folderIds,
      excluded: state.excluded,
      listedAt: state.listedAt,
      pulledAt,
      ...(state.tree === undefined ? {} : { tree: state.tree }),
    }),
  };
}
