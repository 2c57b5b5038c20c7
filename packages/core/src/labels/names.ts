// Messages store label ids; what a reader sees is each id with its current name, resolved on read
// against the connection's label directory (MetadataStore.listLabels). A rename therefore shows at
// once on every message without rewriting one row. One directory read per call, for every
// connection the messages come from.
import type { LabelRef } from '../domain/schemas.js';
import type { MetadataStore, StoredMessage } from '../ports/metadata-store.js';

/** A message as the API returns it: its stored metadata plus `labelRefs`, its labels by name. */
export interface LabeledMessage extends StoredMessage {
  /**
   * The message's labels (Gmail labels; Outlook: its folder) with current names, in the order of
   * `labels`. An id the connection's directory does not hold (yet) stands for itself as its name,
   * so nothing on the message is hidden while a directory read is pending or failed.
   */
  labelRefs: LabelRef[];
}

// Gmail's system label ids are upper-case words (INBOX, CATEGORY_SOCIAL); user labels are Label_N.
const SYSTEM_ID = /^[A-Z]+(?:_[A-Z]+)*$/;

function unresolved(id: string): LabelRef {
  return { id, name: id, kind: SYSTEM_ID.test(id) ? 'system' : 'user' };
}

/** Adds `labelRefs` to each message, reading the directories of their connections once. */
export async function withLabelNames<Message extends StoredMessage>(
  store: Pick<MetadataStore, 'listLabels'>,
  tenantId: string,
  messages: Message[],
): Promise<Array<Message & LabeledMessage>> {
  const connectionIds = [...new Set(messages.map((message) => message.connectionId))];
  const directories = new Map<string, Map<string, LabelRef>>();
  if (connectionIds.length > 0) {
    for (const { connectionId, ...label } of await store.listLabels(tenantId, connectionIds)) {
      let directory = directories.get(connectionId);
      if (!directory) directories.set(connectionId, (directory = new Map()));
      directory.set(label.id, label);
    }
  }
  return messages.map((message) => {
    const directory = directories.get(message.connectionId);
    const labelRefs = message.labels.map((id) => directory?.get(id) ?? unresolved(id));
    return { ...message, labelRefs };
  });
}
