// Provider-level harness: the real msal-node and Graph clients against the Graph emulator,
// a webhook endpoint on 127.0.0.1 that routes into provider.handleWebhook, and hand-built
// ProviderSessions over an in-memory connection table (no engine, no store).
import { createHash, randomBytes } from 'node:crypto';
import {
  isThreadlinkError,
  toThreadlinkError,
  type ChangeHint,
  type Clock,
  type Connection,
  type Logger,
  type MailProvider,
  type ProviderMessage,
  type ProviderTokens,
} from '@threadlink/core';
import { systemClock, type ProviderSession, type ReplyContext, type WebhookContext } from '@threadlink/core/provider';
import { makeConnection, serveWebHandler, startGraphEmulator, type GraphEmulator, type GraphEmulatorOptions } from '@threadlink/testing';
import { outlookProvider, type OutlookProviderOptions } from '../src/index.js';

export interface LogRecord {
  level: string;
  message: string;
  fields: unknown;
}

export function capturingLogger(records: LogRecord[]): Logger {
  const write = (level: string) => (message: string, fields?: unknown) => records.push({ level, message, fields });
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/** A clock that records every requested sleep and returns at once (no waiting in tests). */
export function recordingClock(): Clock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return { sleeps, now: () => Date.now(), sleep: async (ms) => void sleeps.push(ms) };
}

export interface Connected {
  connection: Connection;
  session: ProviderSession;
  /** Every token set persisted through session.updateTokens. */
  tokenUpdates: ProviderTokens[];
}

export interface Harness {
  ms: GraphEmulator;
  provider: MailProvider;
  webhookUrl: string;
  /** Hints produced by webhooks the emulator (or a test) delivered. */
  hints: ChangeHint[];
  /** Webhook answers, in order: status + error code when rejected. */
  webhookAnswers: Array<{ route: string; status: number; code?: string }>;
  logs: LogRecord[];
  connections: Map<string, Connection>;
  /** `consentWithout`: scopes dropped from the consent request, as for a connection made before the adapter asked for them. */
  connect(email: string, options?: { clock?: Clock; consentWithout?: string[] }): Promise<Connected>;
  sessionFor(connection: Connection, options?: { clock?: Clock }): Connected;
  /** POSTs a body to the webhook endpoint as Graph would. */
  post(route: '' | 'lifecycle', body: unknown): Promise<Response>;
  close(): Promise<void>;
}

const REDIRECT_URI = 'http://127.0.0.1:9/threadlink/oauth/callback';

export async function startHarness(options: { provider?: Partial<OutlookProviderOptions>; emulator?: GraphEmulatorOptions } = {}): Promise<Harness> {
  const ms = await startGraphEmulator(options.emulator ?? {});
  const provider = outlookProvider({ ...ms.providerOptions, ...(options.provider ?? {}) });
  const connections = new Map<string, Connection>();
  const hints: ChangeHint[] = [];
  const webhookAnswers: Harness['webhookAnswers'] = [];
  const logs: LogRecord[] = [];
  const logger = capturingLogger(logs);

  const context: WebhookContext = {
    connectionsByAccount: async (_provider, accountEmail) => [...connections.values()].filter((entry) => entry.accountEmail === accountEmail),
    connectionsBySubscriptions: async (_provider, subscriptionIds) =>
      [...connections.values()].filter((entry) => entry.subscription?.items.some((item) => subscriptionIds.includes(item.id))),
    clock: systemClock,
    logger,
    maxBodyBytes: 1024 * 1024,
  };

  const served = await serveWebHandler(async (request) => {
    const match = /^\/webhooks\/outlook(?:\/([a-z]+))?\/?$/.exec(new URL(request.url).pathname);
    if (!match) return new Response('not found', { status: 404 });
    const route = match[1] ?? '';
    try {
      const outcome = await provider.handleWebhook(request, route, context);
      hints.push(...outcome.hints);
      const response = outcome.response ?? new Response(null, { status: 202 });
      webhookAnswers.push({ route, status: response.status });
      return response;
    } catch (raw) {
      const error = toThreadlinkError(raw);
      webhookAnswers.push({ route, status: error.status, code: error.code });
      return new Response(JSON.stringify(error.toJSON()), { status: error.status, headers: { 'content-type': 'application/json' } });
    }
  });
  const webhookUrl = `${served.url}/webhooks/outlook`;

  const sessionFor = (connection: Connection, sessionOptions: { clock?: Clock } = {}): Connected => {
    const tokenUpdates: ProviderTokens[] = [];
    let tokens = JSON.parse(connection.sealedTokens) as ProviderTokens;
    const session: ProviderSession = {
      connection,
      tokens: () => tokens,
      async updateTokens(next) {
        tokens = next;
        tokenUpdates.push(next);
        // The harness "seals" by JSON: enough to round-trip through a later session.
        connection.sealedTokens = JSON.stringify(next);
      },
      logger,
      clock: sessionOptions.clock ?? systemClock,
      webhookUrl,
    };
    return { connection, session, tokenUpdates };
  };

  const connect = async (email: string, connectOptions: { clock?: Clock; consentWithout?: string[] } = {}): Promise<Connected> => {
    try {
      ms.addMailbox({ email });
    } catch {
      // Already there (a second connection of the same mailbox).
    }
    const codeVerifier = randomBytes(32).toString('base64url');
    const codeChallenge = createHash('sha256').update(codeVerifier).digest('base64url');
    const state = randomBytes(16).toString('base64url');
    const url = new URL(await provider.authorizeUrl({ state, codeChallenge, redirectUri: REDIRECT_URI, loginHint: email }));
    const dropped = new Set((connectOptions.consentWithout ?? []).map((scope) => scope.toLowerCase()));
    const consented = (url.searchParams.get('scope') ?? '').split(' ').filter((scope) => !dropped.has(scope.toLowerCase()));
    url.searchParams.set('scope', consented.join(' '));
    const redirect = new URL(await ms.authorize(url.toString(), { email }));
    if (redirect.searchParams.get('state') !== state) throw new Error('state was not echoed');
    const code = redirect.searchParams.get('code');
    if (!code) throw new Error(`no code in ${redirect.search}`);
    const account = await provider.exchangeCode({ code, codeVerifier, redirectUri: REDIRECT_URI });
    const connection: Connection = makeConnection({
      tenantId: 't1',
      userId: 'u1',
      provider: 'outlook',
      accountEmail: account.accountEmail,
      displayName: account.displayName,
      status: 'connecting',
      sealedTokens: JSON.stringify(account.tokens),
      scopes: account.scopes,
      shared: false,
    });
    connections.set(connection.id, connection);
    const connected = sessionFor(connection, connectOptions);
    const subscribed = await provider.subscribe(connected.session);
    connection.subscription = subscribed.subscription;
    connection.cursor = subscribed.cursor;
    connection.status = 'live';
    return connected;
  };

  return {
    ms,
    provider,
    webhookUrl,
    hints,
    webhookAnswers,
    logs,
    connections,
    connect,
    sessionFor,
    post: (route, body) =>
      fetch(route ? `${webhookUrl}/${route}` : webhookUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    async close() {
      await served.close();
      await ms.close();
    },
  };
}

/** Pulls until the provider reports nothing more waiting; returns every change and advances the cursor. */
export async function pullAll(provider: MailProvider, connected: Connected) {
  const changes = [];
  for (;;) {
    const result = await provider.pullChanges(connected.session, connected.connection.cursor as string);
    changes.push(...result.changes);
    connected.connection.cursor = result.nextCursor;
    if (!result.hasMore) return changes;
  }
}

export async function expectThreadlinkError(promise: Promise<unknown>, code: string) {
  try {
    await promise;
  } catch (error) {
    if (isThreadlinkError(error) && error.code === code) return error;
    throw error;
  }
  throw new Error(`expected ThreadlinkError ${code}, but the call succeeded`);
}

/** A reply to `message`: the original's headers a provider threads by, and what the user wrote. */
export function replyContext(message: ProviderMessage, draft: ReplyContext['draft']): ReplyContext {
  const { providerMessageId, providerThreadId, internetMessageId, references, subject, from, to, cc, replyTo } = message;
  return { original: { providerMessageId, providerThreadId, internetMessageId, references, subject, from, to, cc, replyTo }, draft };
}
