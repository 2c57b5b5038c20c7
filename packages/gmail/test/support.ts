// Test support: the Gmail emulator from @threadlink/testing, a ProviderSession built the way
// the engine builds one, a capturing logger and a virtual clock shared with the emulator.
import { randomBytes } from 'node:crypto';
import type { Clock, Connection, Logger, MailProvider, ProviderTokens } from '@threadlink/core';
import type { ProviderSession, ReplyContext } from '@threadlink/core/provider';
import { pkceChallenge } from '@threadlink/core/testing';
import { makeConnection, startGmailEmulator, type GmailEmulator, type GmailEmulatorOptions, type RequestLogEntry } from '@threadlink/testing';
import { gmailProvider, type GmailProviderOptions } from '../src/index.js';

/** The audience the tests' push subscription is configured with (what Pub/Sub puts in `aud`). */
export const PUSH_AUDIENCE = 'https://crm.example.test/threadlink/webhooks/gmail';
export const REDIRECT_URI = 'http://127.0.0.1:1/threadlink/oauth/callback';

export async function startGoogle(options: GmailEmulatorOptions = {}): Promise<GmailEmulator> {
  const google = await startGmailEmulator({ notificationIntervalMs: 20, ...options });
  // No receiver yet: the audience is what matters for providerOptions (tests that need pushes set a real endpoint).
  google.setPushEndpoint({ endpoint: 'http://127.0.0.1:9/unused', audience: PUSH_AUDIENCE });
  return google;
}

/** Fast, deterministic retries for tests: the backoff logic runs, the waits are milliseconds. */
export function providerFor(google: GmailEmulator, extra: Partial<GmailProviderOptions> = {}): MailProvider {
  return gmailProvider({ ...google.providerOptions, retry: { baseMs: 5, maxMs: 50 }, ...extra });
}

export interface CapturedLogger extends Logger {
  lines: string[];
}

/** Keeps every record as JSON text, so a test can search it for content that must never appear. */
export function capturingLogger(): CapturedLogger {
  const lines: string[] = [];
  const write =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push(
        JSON.stringify({ level, message, fields }, (_key, value: unknown) => (value instanceof Error ? { name: value.name, message: value.message } : value)),
      );
    };
  return { lines, debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

/**
 * A clock that only moves when someone sleeps: sleeping jumps time forward instantly. Shared with
 * the emulator (its quota window, tokens and internalDate), so pacing is checked in virtual time.
 */
export function virtualClock(start = Date.now()): Clock & { advance(ms: number): void; sleeps: number[] } {
  let now = start;
  const clock = {
    /** Every sleep asked for, in order. */
    sleeps: [] as number[],
    now: () => now,
    sleep: async (ms: number) => {
      clock.sleeps.push(ms);
      if (ms > 0) now += ms;
      await Promise.resolve();
    },
    advance: (ms: number) => {
      now += ms;
    },
  };
  return clock;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** The connection the engine would have stored for `accountEmail` (tenant t1, user u1, not shared). */
function connectionFor(accountEmail: string, overrides: Partial<Connection> = {}): Connection {
  return makeConnection({
    id: `conn_${accountEmail.replace(/\W/g, '_')}`,
    tenantId: 't1',
    userId: 'u1',
    accountEmail,
    scopes: [],
    shared: false,
    ...overrides,
  });
}

export interface TestSession extends ProviderSession {
  /** Every token set the adapter persisted, in order. */
  readonly persisted: ProviderTokens[];
}

export function sessionFor(connection: Connection, tokens: ProviderTokens, options: { clock?: Clock; logger?: Logger } = {}): TestSession {
  let current = tokens;
  const persisted: ProviderTokens[] = [];
  return {
    connection,
    persisted,
    tokens: () => current,
    async updateTokens(next) {
      current = next;
      persisted.push(next);
    },
    logger: options.logger ?? capturingLogger(),
    clock: options.clock ?? realClock,
    webhookUrl: 'http://127.0.0.1:1/threadlink/webhooks/gmail',
  };
}

/** Runs the real consent flow (authorize URL → consent page → code → exchange) and returns a session. */
export async function connect(
  google: GmailEmulator,
  provider: MailProvider,
  email: string,
  options: { clock?: Clock; logger?: Logger } = {},
): Promise<TestSession> {
  google.addMailbox({ email });
  const verifier = randomBytes(32).toString('base64url');
  const url = await provider.authorizeUrl({ state: 'state-1', codeChallenge: pkceChallenge(verifier), redirectUri: REDIRECT_URI, loginHint: email });
  const redirect = new URL(await google.authorize(url, { email }));
  const code = redirect.searchParams.get('code');
  if (!code) throw new Error(`consent did not return a code: ${redirect.toString()}`);
  const account = await provider.exchangeCode({ code, codeVerifier: verifier, redirectUri: REDIRECT_URI });
  return sessionFor(connectionFor(account.accountEmail, { scopes: account.scopes }), account.tokens, options);
}

export interface RecordedExchange {
  method: string;
  url: string;
  status: number;
  responseBody: string;
}

/**
 * A transparent HTTP proxy in front of the emulator's Gmail API: everything the adapter receives
 * passes through it, so a test can prove what was (never) transferred, not only what was stored.
 */
export async function recordingProxy(target: string): Promise<{ url: string; exchanges: RecordedExchange[]; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  const exchanges: RecordedExchange[] = [];
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      void (async () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(incoming.headers)) {
          if (typeof value === 'string' && !['host', 'connection', 'content-length', 'accept-encoding'].includes(name)) headers.set(name, value);
        }
        const body = Buffer.concat(chunks);
        const response = await fetch(new URL(incoming.url ?? '/', target), {
          method: incoming.method ?? 'GET',
          headers,
          ...(body.length > 0 ? { body } : {}),
        });
        const text = Buffer.from(await response.arrayBuffer());
        exchanges.push({ method: incoming.method ?? 'GET', url: incoming.url ?? '/', status: response.status, responseBody: text.toString('utf8') });
        const contentType = response.headers.get('content-type');
        outgoing.writeHead(response.status, contentType ? { 'content-type': contentType } : {});
        outgoing.end(text);
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    exchanges,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The most units charged to one mailbox in any one-second window (the emulator's own rule). */
export function busiestSecond(entries: RequestLogEntry[]): number {
  const charged = entries.filter((entry) => entry.units > 0).sort((left, right) => left.at - right.at);
  let busiest = 0;
  let start = 0;
  let sum = 0;
  for (const entry of charged) {
    sum += entry.units;
    while (charged[start]!.at <= entry.at - 1_000) {
      sum -= charged[start]!.units;
      start += 1;
    }
    busiest = Math.max(busiest, sum);
  }
  return busiest;
}

/** Existing mail for a back-fill: `count` messages into `mailbox`, a third of them from the CRM's client. */
export async function seedHistory(google: Pick<GmailEmulator, 'deliver'>, mailbox: string, count: number): Promise<void> {
  for (let index = 0; index < count; index += 1) {
    await google.deliver({
      to: mailbox,
      from: index % 3 === 0 ? 'client@bigco.test' : `sender${index % 40}@example.test`,
      subject: `History ${index}`,
      mailbox,
    });
  }
}

/** A reply to a delivered message from `from` (address, name) to `to`, as core hands it to `send`. */
export function replyTo(
  delivered: { id: string; threadId: string; messageId: string },
  input: { subject: string; from: { address: string; name: string }; to: string; text: string },
): ReplyContext {
  return {
    original: {
      providerMessageId: delivered.id,
      providerThreadId: delivered.threadId,
      internetMessageId: delivered.messageId,
      references: [],
      subject: input.subject,
      from: input.from,
      to: [{ address: input.to }],
      cc: [],
      replyTo: [],
    },
    draft: { text: input.text },
  };
}
