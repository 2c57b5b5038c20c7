// A scripted MailProvider for engine tests: an in-memory mailbox with a change log, so the
// engine's guarantees (coalescing, replay, backoff, resync) are tested without a network.
import { ThreadlinkError, type MailProvider, type ProviderMessage } from '@threadlink/core';
import type { Change } from '@threadlink/core/provider';

export interface ScriptedMailbox {
  provider: MailProvider;
  /** Adds a message (returns its provider id). */
  add(input: { subject: string; from?: string; to?: string; threadId?: string; receivedAt?: number; labels?: string[] }): string;
  remove(providerMessageId: string): void;
  /** Ground truth: provider ids present now. */
  ids(): string[];
  calls: { pull: number; fullSync: number; subscribe: number; renew: number; unsubscribe: number; revoke: number; exchange: number };
  /** The access token of every grant revoked, in order. */
  revokedTokens: string[];
  /** Throw these errors from the next pulls, in order. */
  failPulls: ThreadlinkError[];
  /** When set, pulls wait for it (to hold a sync open). */
  gate: Promise<void> | null;
  /** Every cursor older than this index answers CURSOR_EXPIRED. */
  expireBefore: number;
  /** The current change-log position (what a fresh cursor would be). */
  position(): number;
}

/** `providerId`: the id the provider registers under (any slug; the engine must not care which). */
export function scriptedMailbox(account = 'ana@acme.com', providerId = 'gmail'): ScriptedMailbox {
  const messages = new Map<string, ProviderMessage>();
  const log: Change[] = [];
  let sequence = 0;
  const state: ScriptedMailbox = {
    calls: { pull: 0, fullSync: 0, subscribe: 0, renew: 0, unsubscribe: 0, revoke: 0, exchange: 0 },
    revokedTokens: [],
    failPulls: [],
    gate: null,
    expireBefore: 0,
    add(input) {
      sequence += 1;
      const id = `m${String(sequence).padStart(5, '0')}`;
      const message: ProviderMessage = {
        providerMessageId: id,
        providerThreadId: input.threadId ?? `t${id}`,
        internetMessageId: `<${id}@example.test>`,
        inReplyTo: null,
        references: [],
        subject: input.subject,
        from: { address: input.from ?? 'client@bigco.com' },
        to: [{ address: input.to ?? account }],
        cc: [],
        bcc: [],
        replyTo: [],
        sentAt: input.receivedAt ?? 1_700_000_000_000 + sequence,
        receivedAt: input.receivedAt ?? 1_700_000_000_000 + sequence,
        direction: 'inbound',
        folder: 'inbox',
        labels: input.labels ?? ['INBOX'],
        attachments: [],
        hasAttachments: false,
      };
      messages.set(id, message);
      log.push({ type: 'upsert', message });
      return id;
    },
    remove(id) {
      messages.delete(id);
      log.push({ type: 'delete', providerMessageId: id });
    },
    ids: () => [...messages.keys()].sort(),
    position: () => log.length,
    provider: {
      id: providerId,
      authorizeUrl: ({ state: oauthState, redirectUri }) =>
        `https://scripted.test/auth?state=${encodeURIComponent(oauthState)}&redirect_uri=${encodeURIComponent(redirectUri)}`,
      async exchangeCode() {
        state.calls.exchange += 1;
        return {
          accountEmail: account,
          displayName: 'Ana',
          tokens: { accessToken: 'access-secret-123', refreshToken: 'refresh-secret-456' },
          scopes: ['scripted'],
        };
      },
      async revoke(session) {
        state.calls.revoke += 1;
        state.revokedTokens.push(session.tokens().accessToken);
      },
      async subscribe(session) {
        state.calls.subscribe += 1;
        const now = session.clock.now();
        return {
          subscription: {
            items: [{ id: 'watch', resource: 'topic', expiresAt: now + 7 * 86_400_000 }],
            renewAt: now + 86_400_000,
            expiresAt: now + 7 * 86_400_000,
          },
          cursor: String(log.length),
        };
      },
      async renew(session) {
        state.calls.renew += 1;
        const now = session.clock.now();
        return {
          subscription: {
            items: [{ id: 'watch', resource: 'topic', expiresAt: now + 7 * 86_400_000 }],
            renewAt: now + 86_400_000,
            expiresAt: now + 7 * 86_400_000,
          },
        };
      },
      async unsubscribe() {
        state.calls.unsubscribe += 1;
      },
      async handleWebhook(request, _route, context) {
        const body = (await request.json()) as { account: string; id: string };
        const connections = await context.connectionsByAccount(providerId, body.account);
        return {
          hints: connections.map((connection) => ({
            connectionId: connection.id,
            kind: 'changes' as const,
            notificationId: body.id,
            receivedAt: context.clock.now(),
          })),
        };
      },
      async pullChanges(_session, cursor, options) {
        state.calls.pull += 1;
        if (state.gate) await state.gate;
        const from = Number(cursor);
        const end = Math.min(log.length, from + 50);
        const changes = log.slice(from, end);
        // As Gmail's adapter: the listing is named before the messages are read (and may fail).
        const listed = changes.flatMap((change) =>
          change.type === 'upsert' ? [{ providerMessageId: change.message.providerMessageId, providerThreadId: change.message.providerThreadId }] : [],
        );
        if (from >= state.expireBefore && listed.length > 0) options?.onListed?.(listed);
        const failure = state.failPulls.shift();
        if (failure) throw failure;
        if (from < state.expireBefore) throw new ThreadlinkError('CURSOR_EXPIRED', 'history id too old');
        return { changes, nextCursor: String(end), hasMore: end < log.length };
      },
      async fullSync(_session, resume, options) {
        state.calls.fullSync += 1;
        const all = [...messages.values()].sort((a, b) => b.receivedAt - a.receivedAt);
        const start = resume ? Number(resume) : 0;
        const size = options.pageSize ?? 100;
        const page = all.slice(start, start + size);
        const next = start + size < all.length ? String(start + size) : null;
        return { messages: page, next, estimatedTotal: all.length, ...(start === 0 ? { cursor: String(log.length) } : {}) };
      },
      async fetchBody() {
        return { html: '<p>hello</p>', text: 'hello', attachments: [] };
      },
      async send() {
        return { providerMessageId: null, providerThreadId: null, internetMessageId: null };
      },
    },
  };
  return state;
}
