// A sync page's store transaction, opened while the provider reads the page (issue 21): after
// Gmail's history.list the page's message ids and threads are known, so the row lock and the reads
// the commit is planned from go to the store while messages.get is in flight, and the commit after
// it is one database round trip instead of two. The store decides whether it can
// (`MetadataStore.prepareSync`: only a quiet PostgreSQL pool); otherwise nothing changes.
import type { Connection } from '../domain/schemas.js';
import type { ListedMessage, PullOptions } from '../ports/mail-provider.js';
import type { MetadataStore, PreparedSync, SyncPreview } from '../ports/metadata-store.js';
import { messageIdFor, threadIdFor } from './ids.js';

export interface PreparedPage {
  /** The pull's options, with the listing hook when the store can prepare. */
  pullOptions(options: PullOptions | undefined): PullOptions | undefined;
  /** The transaction opened for the page, if one was. */
  prepared(): PreparedSync | null;
  /** Rolls back a transaction no commit took (the pull or the commit failed first). */
  release(): void;
}

export function preparedPage(store: MetadataStore, connection: Connection): PreparedPage {
  let prepared: PreparedSync | null = null;
  const prepare = store.prepareSync?.bind(store);
  return {
    pullOptions(options) {
      if (!prepare) return options;
      const onListed = (listed: readonly ListedMessage[]): void => {
        if (prepared || listed.length === 0) return;
        try {
          prepared = prepare(connection.id, previewOf(connection, listed));
        } catch {
          // An optimisation only: the commit opens its own transaction.
          prepared = null;
        }
      };
      return { ...options, onListed };
    },
    prepared: () => prepared,
    release: () => prepared?.release(),
  };
}

function previewOf(connection: Connection, listed: readonly ListedMessage[]): SyncPreview {
  return {
    threadIds: [...new Set(listed.map((message) => threadIdFor(connection.id, message.providerThreadId)))],
    messages: listed.map((message) => ({ id: messageIdFor(connection.id, message.providerMessageId), providerMessageId: message.providerMessageId })),
  };
}
