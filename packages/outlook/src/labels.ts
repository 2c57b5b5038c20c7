// The mailbox's label directory: every mail folder (excluded ones too: a host may show them) with
// its display name, as LabelRef. A message's `labels` holds its folder id (metadata.ts), which core
// resolves against this directory, so a renamed folder is one directory write. The well-known
// folders are `system` with stable English names — Exchange localises their display names to the
// mailbox's language, and a CRM filter on "Archive" must not break for a mailbox set to French.
import type { LabelRef, ProviderSession } from '@threadlink/core/provider';
import { graphFor, type OutlookContext } from './client.js';
import { loadDirectory, type FolderDirectory } from './folders.js';
import type { WellKnownFolder } from './metadata.js';

const SYSTEM_FOLDER_NAMES: Readonly<Record<WellKnownFolder, string>> = {
  inbox: 'Inbox',
  sentitems: 'Sent Items',
  archive: 'Archive',
  drafts: 'Drafts',
  deleteditems: 'Deleted Items',
  junkemail: 'Junk Email',
  outbox: 'Outbox',
};

function toLabelRefs(directory: Pick<FolderDirectory, 'folders' | 'folderIds'>): LabelRef[] {
  const systemNames = new Map<string, string>();
  for (const [name, id] of Object.entries(directory.folderIds) as Array<[WellKnownFolder, string]>) systemNames.set(id, SYSTEM_FOLDER_NAMES[name]);
  return directory.folders.flatMap((folder): LabelRef[] => {
    if (folder.id.length > 255) return [];
    const system = systemNames.get(folder.id);
    const name = system ?? folder.displayName;
    if (name === '') return [];
    return [{ id: folder.id, name: name.slice(0, 1024), kind: system ? 'system' : 'user' }];
  });
}

export async function listLabels(context: OutlookContext, session: ProviderSession): Promise<LabelRef[]> {
  // Exclusions do not matter here: the directory names every folder.
  return toLabelRefs(await loadDirectory(graphFor(context, session), []));
}
