// The mailbox's label directory (users.labels.list, 1 quota unit, no paging: Gmail returns every
// label in one answer). Gmail has no push and no history record for a label created, renamed or
// deleted — history.list only reports labels added to or removed from messages — so core calls
// this at connect, when a message carries a label id it does not know, and on maintain()'s bound.
// System labels get stable English display names (the API's own are the ids: "INBOX", "CATEGORY_SOCIAL").
import type { gmail_v1 } from '@googleapis/gmail';
import type { LabelRef, ProviderSession } from '@threadlink/core/provider';
import { withGmail, type GmailContext } from './client.js';

const SYSTEM_LABEL_NAMES: Readonly<Record<string, string>> = {
  INBOX: 'Inbox',
  SENT: 'Sent',
  DRAFT: 'Drafts',
  TRASH: 'Trash',
  SPAM: 'Spam',
  IMPORTANT: 'Important',
  STARRED: 'Starred',
  UNREAD: 'Unread',
  CHAT: 'Chat',
  // Gmail's UI shows CATEGORY_PERSONAL as the "Primary" tab.
  CATEGORY_PERSONAL: 'Primary',
  CATEGORY_SOCIAL: 'Social',
  CATEGORY_PROMOTIONS: 'Promotions',
  CATEGORY_UPDATES: 'Updates',
  CATEGORY_FORUMS: 'Forums',
};

/** A Gmail label as a directory entry; a label without id or name (never seen, but optional in the schema) is left out. */
export function toLabelRef(label: gmail_v1.Schema$Label): LabelRef[] {
  const id = label.id ?? '';
  if (id === '' || id.length > 255) return [];
  const system = label.type === 'system';
  const name = (system ? SYSTEM_LABEL_NAMES[id] : undefined) ?? label.name ?? '';
  if (name === '') return [];
  return [{ id, name: name.slice(0, 1024), kind: system ? 'system' : 'user' }];
}

export function listLabels({ options, quota }: GmailContext, session: ProviderSession): Promise<LabelRef[]> {
  return withGmail(options, session, quota.lane(session, 'live'), async (client) => {
    const data = await client.call('labels.list', (request) => client.api.users.labels.list({ userId: 'me', fields: 'labels(id,name,type)' }, request));
    return (data.labels ?? []).flatMap(toLabelRef);
  });
}
