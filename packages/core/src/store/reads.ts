// Single-item reads derived from the store port's batch reads: a backend implements
// getMessages / listThreads once and core asks for one item through these.
import type { MetadataStore, StoredMessage } from '../ports/metadata-store.js';

/** One message of a tenant, or null (derived from `getMessages`). */
export async function getMessage(store: Pick<MetadataStore, 'getMessages'>, tenantId: string, messageId: string): Promise<StoredMessage | null> {
  return (await store.getMessages(tenantId, [messageId]))[0] ?? null;
}

/** One thread of a tenant in the store's order, optionally only these connections' copies (derived from `listThreads`). */
export function listThread(store: Pick<MetadataStore, 'listThreads'>, tenantId: string, threadId: string, connectionIds?: string[]): Promise<StoredMessage[]> {
  return store.listThreads(tenantId, [threadId], connectionIds);
}
