// The emulated providers for the bench, and the "unavoidable round trips" every figure is compared
// with: the same provider requests a minimal client must make, sent with plain keep-alive fetch
// straight to the emulator (no SDK, no client library), timed in the same run.
import { randomBytes, createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { outlookProvider } from '@threadlink/outlook';
import {
  startGmailEmulator,
  startGraphEmulator,
  type GmailEmulator,
  type GmailEmulatorOptions,
  type GraphEmulator,
  type GraphEmulatorOptions,
} from '@threadlink/testing';
import type { Host } from './host-client.js';

/** What the bench's Pub/Sub push subscription puts in `aud`. */
const PUSH_AUDIENCE = 'https://bench.threadlink.test/threadlink/webhooks/gmail';

export async function startGoogle(options: GmailEmulatorOptions = {}): Promise<GmailEmulator> {
  const google = await startGmailEmulator(options);
  google.setPushEndpoint({ endpoint: 'http://127.0.0.1:9/not-yet', audience: PUSH_AUDIENCE });
  return google;
}

/** Serializable gmailProvider options for a host process. */
export function gmailOptions(google: GmailEmulator, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...google.providerOptions, pushAudience: PUSH_AUDIENCE, ...extra };
}

/** Points the emulator's Pub/Sub push subscription at a host. */
export function pushTo(google: GmailEmulator, host: Host): void {
  google.setPushEndpoint({ endpoint: `${host.publicUrl}/webhooks/gmail`, audience: PUSH_AUDIENCE });
}

export async function startMicrosoft(options: GraphEmulatorOptions = {}): Promise<GraphEmulator> {
  return startGraphEmulator(options);
}

export function outlookOptions(microsoft: GraphEmulator, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...microsoft.providerOptions, ...extra };
}

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await run();
  return { ms: performance.now() - started, value };
}

async function getJson<T>(url: string, token: string, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { headers: { authorization: `Bearer ${token}`, ...headers } });
  const body = (await response.json()) as T;
  return { status: response.status, body };
}

/**
 * A bare Gmail client for one mailbox: its own token and its own history cursor, so it can make
 * exactly the requests a pull of the newest message needs (history.list, then messages.get).
 */
export interface RawGmail {
  /** Times history.list from the raw client's own cursor + messages.get of each new message. */
  pull(): Promise<{ ms: number; messages: number; calls: number }>;
  /** One messages.list page (what a naive poller does every interval). */
  list(maxResults: number, query?: string): Promise<{ ms: number; ids: string[] }>;
  get(id: string): Promise<{ ms: number }>;
}

/**
 * The query parameters of the SDK's own history.list and messages.get requests (field masks,
 * formats, history types), taken from what the host actually sent, so a floor makes the emulator
 * do exactly the work the SDK's pull made it do. Cursor and id parameters are dropped.
 */
export interface GmailRequestShapes {
  history: URLSearchParams;
  get: URLSearchParams;
}

/** A naive client's own choice when no SDK request is there to copy (the baseline poller). */
const PLAIN_GMAIL: GmailRequestShapes = {
  history: new URLSearchParams({ historyTypes: 'messageAdded' }),
  get: new URLSearchParams({ format: 'metadata' }),
};

export async function gmailShapesFrom(host: Host, google: GmailEmulator): Promise<GmailRequestShapes> {
  const requests = (await host.recentRequests(google.url)).filter((request) => request.method === 'GET');
  const last = (pattern: RegExp): URLSearchParams => {
    const found = [...requests].reverse().find((request) => pattern.test(request.path.split('?')[0] ?? ''));
    if (!found) throw new Error(`the host has made no request matching ${pattern} yet`);
    const query = new URLSearchParams(found.path.split('?')[1] ?? '');
    for (const name of ['startHistoryId', 'pageToken']) query.delete(name);
    return query;
  };
  return { history: last(/\/gmail\/v1\/users\/me\/history$/), get: last(/\/gmail\/v1\/users\/me\/messages\/[^/]+$/) };
}

/** The `$select` of the SDK's delta requests (its first request of a round carries it in clear). */
export async function graphSelectFrom(host: Host, microsoft: GraphEmulator): Promise<string> {
  const requests = await host.recentRequests(microsoft.url);
  const found = [...requests].reverse().find((request) => /\/messages\/delta\?/.test(request.path) && request.path.includes('select='));
  const select = found ? new URLSearchParams(found.path.split('?')[1] ?? '').get('$select') : null;
  if (!select) throw new Error('the host has made no delta request with a $select yet');
  return select;
}

export async function rawGmail(google: GmailEmulator, email: string, shapes: GmailRequestShapes = PLAIN_GMAIL): Promise<RawGmail> {
  const tokens = await google.issueTokens({ email, scopes: ['https://www.googleapis.com/auth/gmail.readonly'] });
  const token = tokens.access_token;
  const base = `${google.url}/gmail/v1/users/me`;
  const profile = await getJson<{ historyId: string }>(`${base}/profile`, token);
  let cursor = profile.body.historyId;
  const get = async (id: string): Promise<{ ms: number }> =>
    timed(async () => {
      const answer = await getJson(`${base}/messages/${id}?${shapes.get.toString()}`, token);
      if (answer.status !== 200) throw new Error(`messages.get answered ${answer.status}`);
    });
  return {
    async pull() {
      const started = performance.now();
      const history = await getJson<{ history?: Array<{ messagesAdded?: Array<{ message: { id: string } }> }>; historyId: string }>(
        `${base}/history?startHistoryId=${cursor}&${shapes.history.toString()}`,
        token,
      );
      if (history.status !== 200) throw new Error(`history.list answered ${history.status}`);
      cursor = history.body.historyId;
      const ids = (history.body.history ?? []).flatMap((entry) => (entry.messagesAdded ?? []).map((added) => added.message.id));
      for (const id of ids) await get(id);
      return { ms: performance.now() - started, messages: ids.length, calls: 1 + ids.length };
    },
    async list(maxResults, query) {
      const answer = await timed(() =>
        getJson<{ messages?: Array<{ id: string }> }>(`${base}/messages?maxResults=${maxResults}${query ? `&q=${encodeURIComponent(query)}` : ''}`, token),
      );
      if (answer.value.status !== 200) throw new Error(`messages.list answered ${answer.value.status}`);
      return { ms: answer.ms, ids: (answer.value.body.messages ?? []).map((message) => message.id) };
    },
    get,
  };
}

/** A bare Graph client for one mailbox with its own delta links per folder. */
export interface RawGraph {
  /** One delta round trip per folder, in parallel (what a pull after a notification needs). */
  pull(): Promise<{ ms: number; items: number }>;
  /** Walks every folder to its delta link now (otherwise the first pull does it). */
  prime(): Promise<void>;
  /** Times one delta page of `pageSize` from a fresh round of a folder. */
  page(folder: string, pageSize: number): Promise<{ ms: number; items: number }>;
}

export async function rawGraph(
  microsoft: GraphEmulator,
  email: string,
  folders: string[] = ['inbox', 'sentitems'],
  select = 'id,subject,receivedDateTime',
): Promise<RawGraph> {
  // Tokens the way any app gets them: the authorization-code flow, here through the adapter's MSAL.
  const provider = outlookProvider({ ...microsoft.providerOptions });
  const verifier = randomBytes(32).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const redirectUri = 'http://127.0.0.1:9/bench/callback';
  const url = await provider.authorizeUrl({ state: 'bench', codeChallenge: challenge, redirectUri, loginHint: email });
  const redirect = new URL(await microsoft.authorize(url, { email }));
  const code = redirect.searchParams.get('code');
  if (!code) throw new Error('the Graph emulator gave no code');
  const account = await provider.exchangeCode({ code, codeVerifier: verifier, redirectUri });
  const token = account.tokens.accessToken;
  // `select`: pass the SDK's own (graphSelectFrom) so the emulator renders the same items for a floor.
  const start = (folder: string): string => `${microsoft.url}/v1.0/me/mailFolders/${folder}/messages/delta?$select=${encodeURIComponent(select)}`;
  type DeltaPage = { value?: unknown[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string };
  const read = (link: string, pageSize: number) => getJson<DeltaPage>(link, token, { prefer: `IdType="ImmutableId", odata.maxpagesize=${pageSize}` });
  const links = new Map<string, string>();
  // The raw client's own delta links, walked on first use (a page-timing probe needs none).
  const walk = async (): Promise<void> => {
    for (const folder of folders) {
      let link = start(folder);
      for (;;) {
        const page = await read(link, 1000);
        if (page.status !== 200) throw new Error(`delta answered ${page.status}`);
        if (page.body['@odata.deltaLink']) {
          links.set(folder, page.body['@odata.deltaLink']);
          break;
        }
        link = page.body['@odata.nextLink'] as string;
      }
    }
  };
  return {
    async pull() {
      if (links.size === 0) await walk();
      const started = performance.now();
      const pages = await Promise.all(
        folders.map(async (folder) => {
          const page = await read(links.get(folder) as string, 100);
          if (page.status !== 200) throw new Error(`delta answered ${page.status}`);
          const next = page.body['@odata.deltaLink'];
          if (next) links.set(folder, next);
          return page.body.value?.length ?? 0;
        }),
      );
      return { ms: performance.now() - started, items: pages.reduce((sum, count) => sum + count, 0) };
    },
    async prime() {
      if (links.size === 0) await walk();
    },
    async page(folder, pageSize) {
      const answer = await timed(() => read(start(folder), pageSize));
      if (answer.value.status !== 200) throw new Error(`delta answered ${answer.value.status}`);
      return { ms: answer.ms, items: answer.value.body.value?.length ?? 0 };
    },
  };
}
