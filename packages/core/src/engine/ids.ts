// Stored ids derive from (connection, provider id), never from the provider id alone: two
// mailboxes may see the same provider message (a shared thread) and each keeps its own row.
import { stableId } from '../security/hash.js';

export function messageIdFor(connectionId: string, providerMessageId: string): string {
  return stableId('msg', connectionId, providerMessageId);
}

export function threadIdFor(connectionId: string, providerThreadId: string): string {
  return stableId('thr', connectionId, providerThreadId);
}
