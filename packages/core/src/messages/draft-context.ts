// What an assistant drafting a reply needs: the whole visible thread as clean text, oldest first,
// within a size budget, with who wrote to whom — and nothing kept. Bodies are fetched from the
// provider concurrently (bounded, so one big thread cannot take a mailbox's whole quota at once),
// cleaned (clean-text.ts), then cut newest-first: when the budget is short the latest messages
// stay, because they are what a reply answers. Nothing here is stored, logged or emitted; the
// result goes to the caller only (the privacy canary in packages/reliability checks this path).
import type { DraftContext, DraftContextMessage, DraftContextOptions, Scope } from '../api.js';
import type { CoreContext } from '../context.js';
import type { Participant } from '../domain/schemas.js';
import { ThreadlinkError } from '../errors.js';
import type { StoredMessage } from '../ports/metadata-store.js';
import { listThread } from '../store/reads.js';
import { mapWithConcurrency } from '../util/concurrency.js';
import type { ReadBody } from './body.js';
import { cleanMessageText } from './clean-text.js';

/** Characters per token used for `maxTokens`: the usual rule of thumb for English with GPT-style BPE tokenizers. */
export const CHARACTERS_PER_TOKEN = 4;
const DEFAULT_MAX_CHARACTERS = 16_000;
/** Body fetches in flight per call (Graph allows 4 concurrent requests per mailbox). */
const FETCH_CONCURRENCY = 4;
const MAX_BUDGET_CHARACTERS = 2_000_000;
const TRUNCATION_MARK = ' […]';

function budgetOf(options: DraftContextOptions | undefined): number {
  const budget = options?.budget;
  if (budget === undefined) return DEFAULT_MAX_CHARACTERS;
  const { maxCharacters, maxTokens } = budget as { maxCharacters?: unknown; maxTokens?: unknown };
  const valid = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value >= 200 && value <= MAX_BUDGET_CHARACTERS;
  if (maxCharacters !== undefined && maxTokens !== undefined)
    throw new ThreadlinkError('INVALID_INPUT', 'A draft budget is maxCharacters or maxTokens, not both');
  if (maxCharacters !== undefined) {
    if (!valid(maxCharacters)) throw new ThreadlinkError('INVALID_INPUT', `budget.maxCharacters must be an integer from 200 to ${MAX_BUDGET_CHARACTERS}`);
    return maxCharacters;
  }
  if (maxTokens !== undefined) {
    if (typeof maxTokens !== 'number' || !valid(maxTokens * CHARACTERS_PER_TOKEN)) {
      throw new ThreadlinkError('INVALID_INPUT', `budget.maxTokens must be an integer from 50 to ${MAX_BUDGET_CHARACTERS / CHARACTERS_PER_TOKEN}`);
    }
    return maxTokens * CHARACTERS_PER_TOKEN;
  }
  throw new ThreadlinkError('INVALID_INPUT', 'A draft budget names maxCharacters or maxTokens');
}

/** One copy per message: colleagues' mailboxes may both hold it; the asked message's mailbox wins. */
function distinctMessages(thread: StoredMessage[], asked: StoredMessage): StoredMessage[] {
  const byKey = new Map<string, StoredMessage>();
  for (const message of thread) {
    const key = message.internetMessageId ?? message.id;
    const kept = byKey.get(key);
    if (!kept || (message.connectionId === asked.connectionId && kept.connectionId !== asked.connectionId)) byKey.set(key, message);
  }
  const distinct = [...byKey.values()];
  if (!distinct.some((message) => message.id === asked.id)) distinct.push(asked);
  return distinct.sort((left, right) => left.receivedAt - right.receivedAt || (left.id < right.id ? -1 : left.id > right.id ? 1 : 0));
}

function named(participant: Participant): string {
  return participant.name ? `${participant.name} <${participant.address}>` : participant.address;
}

/** The header lines an entry is rendered with (counted against the budget). */
function heading(message: DraftContextMessage): string {
  const lines = [
    `From: ${message.from ? named(message.from) : '(unknown)'}${message.direction === 'outbound' ? ' (us)' : ''}`,
    `To: ${message.to.map(named).join(', ')}`,
    ...(message.cc.length ? [`Cc: ${message.cc.map(named).join(', ')}`] : []),
    `Date: ${new Date(message.sentAt).toISOString()}`,
    `Subject: ${message.subject}`,
  ];
  return `${lines.join('\n')}\n\n`;
}

function renderEntry(message: DraftContextMessage): string {
  return `${heading(message)}${message.text}`;
}

const SEPARATOR = '\n\n---\n\n';

export function createDraftContext(
  context: CoreContext,
  body: ReadBody,
): (messageId: string, scope: Scope, options?: DraftContextOptions) => Promise<DraftContext> {
  return async function draftContext(messageId, scope, options) {
    const maxCharacters = budgetOf(options);
    const { message } = await context.messageFor(messageId, scope);
    const thread = await listThread(context.store, scope.tenantId, message.threadId, (await context.visibleConnectionIds(scope)) ?? undefined);
    const messages = distinctMessages(thread, message);
    const bodies = await mapWithConcurrency(messages, FETCH_CONCURRENCY, (entry) =>
      // Both forms: a message may have only HTML (Gmail then has no text part).
      body(entry.id, scope).catch((error: unknown) => {
        // A message deleted at the provider since the last sync has no body to give: leave it out
        // (it is counted as omitted) rather than fail the whole draft. The asked message must answer.
        if (entry.id !== message.id && error instanceof ThreadlinkError && error.code === 'NOT_FOUND') return null;
        throw error;
      }),
    );
    const entries: Array<DraftContextMessage | null> = messages.map((entry, index) => {
      const fetched = bodies[index];
      if (!fetched) return null;
      return {
        messageId: entry.id,
        direction: entry.direction,
        from: entry.from,
        to: entry.to,
        cc: entry.cc,
        sentAt: entry.sentAt ?? entry.receivedAt,
        subject: entry.subject,
        text: cleanMessageText(fetched),
        truncated: false,
      };
    });

    // Newest first until the budget is spent; the newest entry is shortened rather than dropped.
    const kept: DraftContextMessage[] = [];
    let used = 0;
    for (let index = entries.length - 1; index >= 0; index -= 1) {
      const entry = entries[index];
      if (!entry) continue;
      const cost = renderEntry(entry).length + (kept.length ? SEPARATOR.length : 0);
      if (used + cost <= maxCharacters) {
        kept.unshift(entry);
        used += cost;
        continue;
      }
      if (kept.length === 0) {
        const room = maxCharacters - heading(entry).length - TRUNCATION_MARK.length;
        if (room > 0) {
          const shortened = { ...entry, text: `${entry.text.slice(0, room).trimEnd()}${TRUNCATION_MARK}`, truncated: true };
          kept.unshift(shortened);
          used += renderEntry(shortened).length;
        }
      }
      break;
    }
    const text = kept.map(renderEntry).join(SEPARATOR);
    const fetchedOfAsked = bodies[messages.findIndex((entry) => entry.id === message.id)];
    return {
      message,
      thread,
      body: { html: fetchedOfAsked?.html ?? null, text: fetchedOfAsked?.text ?? null, attachments: fetchedOfAsked?.attachments ?? [] },
      messages: kept,
      omitted: messages.length - kept.length,
      text,
      budget: { maxCharacters, usedCharacters: text.length, approximateTokens: Math.ceil(text.length / CHARACTERS_PER_TOKEN) },
    };
  };
}
