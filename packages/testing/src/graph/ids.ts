// Identifier shapes that look like the ones Exchange Online hands out, so code
// that stores or logs them meets realistic lengths and alphabets: REST ids are
// long URL-safe base64 with a trailing `=`, conversation ids start `AAQkA`,
// immutable ids `AAkALg` (learn.microsoft.com/graph/outlook-immutable-id).
import { randomBytes, randomUUID } from 'node:crypto';

function urlSafe(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

export function newMessageId(): string {
  return `AAMkAD${urlSafe(96)}AAA=`;
}

export function newImmutableMessageId(): string {
  return `AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0A${urlSafe(60)}AAA=`;
}

export function newFolderId(): string {
  return `AAMkAD${urlSafe(40)}AAA=`;
}

export function newConversationId(): string {
  return `AAQkAD${urlSafe(40)}=`;
}

export function newAttachmentId(): string {
  return `AAMkAD${urlSafe(72)}BEgAQA=`;
}

export function newChangeKey(): string {
  return `CQAAABYAAA${urlSafe(18)}`;
}

export function newOpaqueToken(bytes = 24): string {
  return urlSafe(bytes);
}

export function newGuid(): string {
  return randomUUID();
}

/** A Message-ID in the shape Exchange Online generates for mail it sends. */
export function newInternetMessageId(domain = 'emulator.prod.outlook.com'): string {
  return `<${randomBytes(16).toString('hex').toUpperCase()}@${domain}>`;
}
