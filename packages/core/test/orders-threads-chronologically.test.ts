import { chronological, dedupeThreads } from '../src/timeline/timeline.js';
import type { LabeledMessage } from '@threadlink/core';
import { describe, expect, it } from 'vitest';

function message(id: string, receivedAt: number, internetMessageId: string, inReplyTo: string | null, references: string[]): LabeledMessage {
  return {
    id,
    tenantId: 't',
    connectionId: 'c',
    userId: 'u',
    provider: 'outlook',
    threadId: 'th',
    providerMessageId: id,
    providerThreadId: 'conv',
    internetMessageId,
    inReplyTo,
    references,
    subject: 's',
    from: null,
    to: [],
    cc: [],
    bcc: [],
    replyTo: [],
    sentAt: receivedAt,
    receivedAt,
    direction: 'inbound',
    folder: 'inbox',
    labels: [],
    attachments: [],
    hasAttachments: false,
    referenceTokens: [],
    syncedAt: receivedAt,
    links: [],
    labelRefs: [],
  };
}

describe('thread order', () => {
  it('puts a reply after its original when both carry the same whole-second date', () => {
    const original = message('z-original', 1_000, '<a@x>', null, []);
    const reply = message('a-reply', 1_000, '<b@x>', '<a@x>', ['<a@x>']);
    expect([reply, original].sort(chronological).map((entry) => entry.id)).toEqual(['z-original', 'a-reply']);
    const page = dedupeThreads({ threads: [{ threadId: 'th', lastActivityAt: 1_000, messages: [reply, original] }], next: null });
    expect(page.threads[0]!.messages.map((entry) => entry.id)).toEqual(['z-original', 'a-reply']);
  });
});
