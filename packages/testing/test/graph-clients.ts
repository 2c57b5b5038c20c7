// Real-client wiring shared by the graph-*.test.ts files: an msal-node
// networkClient that trusts the emulator's CA, a microsoft-graph-client whose
// middleware attaches the bearer token on a loopback http base URL, and a
// local webhook receiver that answers Graph's validation handshake.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  ConfidentialClientApplication,
  CryptoProvider,
  type AuthenticationResult,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse,
} from '@azure/msal-node';
import { Client, HTTPMessageHandler, RetryHandler, RetryHandlerOptions, type Context, type Middleware } from '@microsoft/microsoft-graph-client';
import type { GraphEmulator } from '../src/graph/index.js';

export const SCOPES = [
  'https://graph.microsoft.com/User.Read',
  'https://graph.microsoft.com/Mail.ReadWrite',
  'https://graph.microsoft.com/Mail.Send',
  'offline_access',
];
export const REDIRECT_URI = 'http://127.0.0.1:5999/auth/outlook/callback';

/** msal-node's INetworkModule over node:https with the emulator CA trusted; records every URL it is asked for. */
function trustingNetworkClient(caCertificate: string, seen: string[] = []): INetworkModule {
  const send = <T>(method: 'GET' | 'POST', url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> =>
    new Promise((resolve, reject) => {
      seen.push(url);
      const body = options?.body ?? '';
      const outgoing = httpsRequest(
        url,
        {
          method,
          ca: caCertificate,
          headers: { ...(options?.headers ?? {}), ...(method === 'POST' ? { 'content-length': String(Buffer.byteLength(body)) } : {}) },
        },
        (incoming) => {
          const chunks: Buffer[] = [];
          incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
          incoming.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(incoming.headers)) {
              if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
            }
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = text;
            }
            resolve({ headers, body: parsed as T, status: incoming.statusCode ?? 0 });
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  return {
    sendGetRequestAsync: (url, options) => send('GET', url, options),
    sendPostRequestAsync: (url, options) => send('POST', url, options),
  };
}

export function msalApp(emulator: GraphEmulator, seen: string[] = []): ConfidentialClientApplication {
  const options = emulator.providerOptions;
  return new ConfidentialClientApplication({
    auth: {
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      authority: `${options.authorityHost}/${options.tenant}`,
      knownAuthorities: [new URL(options.authorityHost).host],
    },
    system: { networkClient: trustingNetworkClient(options.caCertificate, seen) },
  });
}

/** The full interactive code flow: PKCE auth URL → consent page → code → tokens. */
export async function signIn(
  emulator: GraphEmulator,
  email: string,
  app: ConfidentialClientApplication = msalApp(emulator),
  scopes: string[] = SCOPES,
): Promise<{ app: ConfidentialClientApplication; result: AuthenticationResult }> {
  const crypto = new CryptoProvider();
  const { verifier, challenge } = await crypto.generatePkceCodes();
  const state = crypto.createNewGuid();
  const authorizeUrl = await app.getAuthCodeUrl({
    scopes,
    redirectUri: REDIRECT_URI,
    codeChallenge: challenge,
    codeChallengeMethod: 'S256',
    state,
    loginHint: email,
  });
  const redirect = new URL(await emulator.authorize(authorizeUrl, { email }));
  if (redirect.searchParams.get('state') !== state) throw new Error('state mismatch');
  const code = redirect.searchParams.get('code');
  if (!code) throw new Error(`no code in ${redirect.toString()}`);
  const result = await app.acquireTokenByCode({ code, scopes, redirectUri: REDIRECT_URI, codeVerifier: verifier });
  return { app, result };
}

/**
 * microsoft-graph-client's AuthenticationHandler only attaches tokens to
 * https:// Graph hosts, so against the http emulator the chain starts with a
 * middleware that always sets the bearer; retries and transport stay the
 * library's own RetryHandler and HTTPMessageHandler.
 */
class BearerMiddleware implements Middleware {
  private next: Middleware | undefined;
  constructor(private readonly token: () => Promise<string> | string) {}
  async execute(context: Context): Promise<void> {
    const token = await this.token();
    context.options = context.options ?? {};
    context.options.headers = { ...((context.options.headers as Record<string, string> | undefined) ?? {}), Authorization: `Bearer ${token}` };
    await this.next?.execute(context);
  }
  setNext(next: Middleware): void {
    this.next = next;
  }
}

export function graphClient(emulator: GraphEmulator, token: () => Promise<string> | string, retries = 3): Client {
  return Client.initWithMiddleware({
    baseUrl: emulator.url,
    middleware: [new BearerMiddleware(token), new RetryHandler(new RetryHandlerOptions(0, retries)), new HTTPMessageHandler()],
  });
}

/** A fresh mailbox (unique address per call), signed in through msal-node, with a Graph client for it. */
export async function connectMailbox(
  emulator: GraphEmulator,
  name: string,
  retries = 3,
  scopes: string[] = SCOPES,
): Promise<{ email: string; client: Client }> {
  const email = `${name}-${randomUUID().slice(0, 8)}@contoso.test`;
  emulator.addMailbox({ email, name });
  const { result } = await signIn(emulator, email, undefined, scopes);
  return { email, client: graphClient(emulator, () => result.accessToken, retries) };
}

/** client.api() only strips https:// origins from absolute links; drop the http emulator origin ourselves. */
export function relativeLink(emulator: GraphEmulator, link: string): string {
  return link.startsWith(`${emulator.url}/v1.0`) ? link.slice(`${emulator.url}/v1.0`.length) : link;
}

interface ReceivedNotification {
  path: string;
  body: { value: Array<Record<string, unknown>> };
}

export interface WebhookReceiver {
  url: string;
  lifecycleUrl: string;
  notifications: ReceivedNotification[];
  lifecycle: ReceivedNotification[];
  validations: string[];
  /** How the receiver answers; tests flip these between steps. */
  behaviour: {
    validation: 'echo' | 'wrong' | 'slow' | 'html';
    /** Answer this many notification POSTs with 500 before accepting. */
    failNext: number;
    /** Answer this many notification POSTs only after slowMs. */
    slowNext: number;
    slowMs: number;
  };
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const receiver: Omit<WebhookReceiver, 'url' | 'lifecycleUrl' | 'close'> = {
    notifications: [],
    lifecycle: [],
    validations: [],
    behaviour: { validation: 'echo', failNext: 0, slowNext: 0, slowMs: 500 },
  };
  const handle = async (request: IncomingMessage, response: ServerResponse, raw: string): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const token = url.searchParams.get('validationToken');
    if (token !== null) {
      receiver.validations.push(token);
      const mode = receiver.behaviour.validation;
      if (mode === 'slow') await new Promise((resolve) => setTimeout(resolve, receiver.behaviour.slowMs));
      if (mode === 'html') {
        response.writeHead(200, { 'content-type': 'text/html' }).end(`<p>${token}</p>`);
        return;
      }
      response.writeHead(200, { 'content-type': 'text/plain' }).end(mode === 'wrong' ? encodeURIComponent(token) : token);
      return;
    }
    const body = JSON.parse(raw) as ReceivedNotification['body'];
    if (url.pathname.endsWith('/lifecycle')) {
      receiver.lifecycle.push({ path: url.pathname, body });
      response.writeHead(202).end();
      return;
    }
    if (receiver.behaviour.slowNext > 0) {
      receiver.behaviour.slowNext -= 1;
      await new Promise((resolve) => setTimeout(resolve, receiver.behaviour.slowMs));
    }
    if (receiver.behaviour.failNext > 0) {
      receiver.behaviour.failNext -= 1;
      response.writeHead(500).end();
      return;
    }
    receiver.notifications.push({ path: url.pathname, body });
    response.writeHead(202).end();
  };
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => void handle(request, response, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    ...receiver,
    url: `${base}/webhooks/outlook`,
    lifecycleUrl: `${base}/webhooks/outlook/lifecycle`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A valid expirationDateTime for a message subscription, `minutes` ahead of the emulator clock. */
export function expiresIn(minutes: number, now = Date.now()): string {
  return new Date(now + minutes * 60_000).toISOString();
}
