// Mail folders: list (the root's children, 10 a page unless $top), get, childFolders, create,
// rename (PATCH displayName), move and delete. Folder ids never change — a rename or a move
// only changes displayName or parentFolderId — and DELETE moves the folder with its contents
// into Deleted Items, as Outlook does (the folder and its items stay recoverable).
// Sources: api/user-list-mailfolders.md (includeHiddenFolders, default page of 10),
// api/mailfolder-list-childfolders.md, api/user-post-mailfolders.md, api/mailfolder-post-childfolders.md,
// api/mailfolder-update.md, api/mailfolder-move.md, api/mailfolder-delete.md, resources/mailfolder.md.
import type { MailFolder } from '@microsoft/microsoft-graph-types';
import type { EmulatorResponse } from '../common/server.js';
import type { GraphCall } from './context.js';
import type { Folder, Mailbox, MailStore } from './mail-store.js';
import { graphError, graphJson, parseSelect, queryOption, unknownSelected } from './odata.js';

/** `GET /me/mailFolders` pages 10 folders at a time unless `$top` says otherwise. */
const DEFAULT_PAGE_SIZE = 10;

function itemNotFound(): EmulatorResponse {
  return graphError(404, 'ErrorItemNotFound', 'The specified object was not found in the store.');
}

function renderFolder(store: MailStore, mailbox: Mailbox, folder: Folder): MailFolder {
  const messages = store.messagesInFolder(mailbox, folder.id);
  return {
    id: folder.id,
    displayName: folder.displayName,
    parentFolderId: folder.parentFolderId,
    childFolderCount: store.childFolders(mailbox, folder.id).length,
    unreadItemCount: messages.filter((message) => !message.isRead).length,
    totalItemCount: messages.length,
    isHidden: folder.isHidden,
  };
}

/** `$select` keeps the named properties and the id, as Graph does. */
function selected(call: GraphCall, folder: MailFolder): Partial<MailFolder> {
  const select = parseSelect(queryOption(call.url, 'select'));
  if (select === undefined) return folder;
  const wanted = new Set(select.map((field) => field.toLowerCase()));
  return Object.fromEntries(Object.entries(folder).filter(([key]) => key === 'id' || wanted.has(key.toLowerCase())));
}

/** The mailFolder properties the emulator models (renderFolder); `$select` of any other is a 400. */
const FOLDER_PROPERTIES = [
  'id',
  'displayName',
  'parentFolderId',
  'childFolderCount',
  'unreadItemCount',
  'totalItemCount',
  'isHidden',
] as const satisfies ReadonlyArray<keyof MailFolder>;

function refusedSelect(call: GraphCall): EmulatorResponse | undefined {
  return unknownSelected(parseSelect(queryOption(call.url, 'select')), FOLDER_PROPERTIES, 'mailFolder');
}

function folderContext(call: GraphCall, entity: boolean): string {
  return `${call.origin}/v1.0/$metadata#users('${call.mailbox.userId}')/mailFolders${entity ? '/$entity' : ''}`;
}

/** One page of a parent's children; hidden folders only with `includeHiddenFolders=true`. */
function listChildren(store: MailStore, call: GraphCall, parentFolderId: string): EmulatorResponse {
  const refused = refusedSelect(call);
  if (refused) return refused;
  const includeHidden = queryOption(call.url, 'includeHiddenFolders')?.toLowerCase() === 'true';
  const children = store.childFolders(call.mailbox, parentFolderId).filter((folder) => includeHidden || !folder.isHidden);
  const top = Number.parseInt(queryOption(call.url, 'top') ?? '', 10);
  const skip = Number.parseInt(queryOption(call.url, 'skip') ?? '', 10);
  const pageSize = Number.isInteger(top) && top > 0 ? top : DEFAULT_PAGE_SIZE;
  const offset = Number.isInteger(skip) && skip > 0 ? skip : 0;
  const page = children.slice(offset, offset + pageSize);
  const body: { '@odata.context': string; value: Array<Partial<MailFolder>>; '@odata.nextLink'?: string } = {
    '@odata.context': folderContext(call, false),
    value: page.map((folder) => selected(call, renderFolder(store, call.mailbox, folder))),
  };
  if (offset + page.length < children.length) {
    const next = new URL(call.url);
    next.searchParams.set('$top', String(pageSize));
    next.searchParams.set('$skip', String(offset + page.length));
    body['@odata.nextLink'] = next.toString();
  }
  return graphJson(200, body);
}

export function listFolders(store: MailStore, call: GraphCall): EmulatorResponse {
  return listChildren(store, call, call.mailbox.rootFolderId);
}

export function listChildFolders(store: MailStore, call: GraphCall, reference: string): EmulatorResponse {
  const parent = store.resolveFolder(call.mailbox, reference);
  if (!parent) return itemNotFound();
  return listChildren(store, call, parent.id);
}

export function getFolder(store: MailStore, call: GraphCall, reference: string): EmulatorResponse {
  const folder = store.resolveFolder(call.mailbox, reference);
  if (!folder) return itemNotFound();
  const refused = refusedSelect(call);
  if (refused) return refused;
  return graphJson(200, { '@odata.context': folderContext(call, true), ...selected(call, renderFolder(store, call.mailbox, folder)) });
}

/** `POST /me/mailFolders` (parent undefined: the root) or `POST /me/mailFolders/{id}/childFolders`. */
export function createFolder(store: MailStore, call: GraphCall, parentReference: string | undefined): EmulatorResponse {
  const parent = parentReference === undefined ? { id: call.mailbox.rootFolderId } : store.resolveFolder(call.mailbox, parentReference);
  if (!parent) return itemNotFound();
  const displayName = call.json<{ displayName?: unknown }>()?.displayName;
  if (typeof displayName !== 'string' || displayName.trim() === '') return graphError(400, 'ErrorInvalidRequest', 'A folder needs a displayName.');
  const created = store.createFolder(call.mailbox, displayName, parent.id);
  if (created === 'exists') return graphError(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
  return graphJson(201, { '@odata.context': folderContext(call, true), ...renderFolder(store, call.mailbox, created) });
}

/** PATCH renames; displayName is the one writable property of a mailFolder. */
export function updateFolder(store: MailStore, call: GraphCall, reference: string): EmulatorResponse {
  const folder = store.resolveFolder(call.mailbox, reference);
  if (!folder || folder.id === call.mailbox.rootFolderId) return itemNotFound();
  const displayName = call.json<{ displayName?: unknown }>()?.displayName;
  if (typeof displayName !== 'string' || displayName.trim() === '') return graphError(400, 'ErrorInvalidRequest', 'displayName must be a non-empty string.');
  if (
    store
      .childFolders(call.mailbox, folder.parentFolderId)
      .some((sibling) => sibling !== folder && sibling.displayName.toLowerCase() === displayName.toLowerCase())
  ) {
    return graphError(409, 'ErrorFolderExists', 'A folder with the specified name already exists.');
  }
  store.renameFolder(folder, displayName);
  return graphJson(200, { '@odata.context': folderContext(call, true), ...renderFolder(store, call.mailbox, folder) });
}

export function moveFolder(store: MailStore, call: GraphCall, reference: string): EmulatorResponse {
  const folder = store.resolveFolder(call.mailbox, reference);
  if (!folder) return itemNotFound();
  const destinationId = call.json<{ destinationId?: unknown }>()?.destinationId;
  if (typeof destinationId !== 'string') return graphError(400, 'ErrorInvalidIdMalformed', 'Id is malformed.');
  const destination = store.resolveFolder(call.mailbox, destinationId);
  if (!destination) return itemNotFound();
  if (folder.wellKnownName !== undefined || store.isInside(call.mailbox, destination.id, folder.id)) {
    return graphError(400, 'ErrorMoveCopyFailed', 'The move or copy operation failed.');
  }
  store.moveFolder(call.mailbox, folder, destination.id);
  return graphJson(201, { '@odata.context': folderContext(call, true), ...renderFolder(store, call.mailbox, folder) });
}

export function deleteFolder(store: MailStore, call: GraphCall, reference: string): EmulatorResponse {
  const folder = store.resolveFolder(call.mailbox, reference);
  if (!folder || folder.id === call.mailbox.rootFolderId) return itemNotFound();
  if (folder.wellKnownName !== undefined) return graphError(403, 'ErrorDeleteDistinguishedFolder', 'Distinguished folders cannot be deleted.');
  store.moveFolder(call.mailbox, folder, store.requireFolder(call.mailbox, 'deleteditems').id);
  return { status: 204, body: null };
}
