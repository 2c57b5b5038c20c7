// Shared set-up for the Gmail emulator tests: a real OAuth2Client + gmail client
// connected through the emulator's consent flow (PKCE, offline access).
import { gmail as gmailApi, type gmail_v1 } from '@googleapis/gmail';
import { CodeChallengeMethod, OAuth2Client } from 'google-auth-library';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GmailEmulator } from '../src/gmail/index.js';

export const REDIRECT_URI = 'http://127.0.0.1:53682/oauth/callback';
export const GOOGLE = 'https://www.googleapis.com/auth/';

export function oauthClient(emulator: GmailEmulator, extra: { forceRefreshOnFailure?: boolean } = {}): OAuth2Client {
  return new OAuth2Client({
    clientId: emulator.providerOptions.clientId,
    clientSecret: emulator.providerOptions.clientSecret,
    redirectUri: REDIRECT_URI,
    endpoints: emulator.providerOptions.oauthEndpoints,
    ...extra,
  });
}

export interface Connection {
  auth: OAuth2Client;
  gmail: gmail_v1.Gmail;
}

/** Runs the real consent flow: generateAuthUrl (PKCE S256) → consent → getToken. */
export async function connect(
  emulator: GmailEmulator,
  email: string,
  scopes: string[] = [`${GOOGLE}gmail.readonly`, `${GOOGLE}gmail.send`],
  extra: { forceRefreshOnFailure?: boolean } = {},
): Promise<Connection> {
  const auth = oauthClient(emulator, extra);
  const { codeVerifier, codeChallenge } = await auth.generateCodeVerifierAsync();
  const url = auth.generateAuthUrl({
    access_type: 'offline',
    scope: scopes,
    state: 'state-123',
    code_challenge: codeChallenge ?? '',
    code_challenge_method: CodeChallengeMethod.S256,
    login_hint: email,
  });
  const redirect = new URL(await emulator.authorize(url, { email }));
  const code = redirect.searchParams.get('code');
  if (!code) throw new Error(`no code in ${redirect.toString()}`);
  const { tokens } = await auth.getToken({ code, codeVerifier });
  auth.setCredentials(tokens);
  return { auth, gmail: gmailFor(emulator, auth) };
}

/** googleapis-common pins its own google-auth-library patch version; the class is the same at runtime. */
export function gmailFor(emulator: GmailEmulator, auth: OAuth2Client): gmail_v1.Gmail {
  return gmailApi({ version: 'v1', auth: auth as unknown as NonNullable<gmail_v1.Options['auth']>, rootUrl: emulator.providerOptions.apiRootUrl });
}

/** A gaxios error's status and Google error body, for asserting error shapes. */
export async function failure(promise: Promise<unknown>): Promise<{
  status: number;
  body: { error: { code: number; message: string; status: string; errors: { reason: string; domain: string; message: string }[] } };
}> {
  try {
    await promise;
  } catch (error) {
    const response = (error as { response?: { status: number; data: unknown } }).response;
    if (!response) throw error;
    const data = typeof response.data === 'string' ? JSON.parse(response.data) : response.data;
    return { status: response.status, body: data as never };
  }
  throw new Error('expected the call to fail');
}

export interface ReceivedPush {
  headers: IncomingMessage['headers'];
  body: {
    message: { data: string; messageId: string; message_id: string; publishTime: string; publish_time: string; attributes: Record<string, string> };
    subscription: string;
  };
  notification: { emailAddress: string; historyId: number | string };
}

/** A node:http webhook receiver; `respond` picks the status for each push. */
export async function pushReceiver(respond: (push: ReceivedPush, index: number) => number = () => 204): Promise<{
  url: string;
  received: ReceivedPush[];
  close(): Promise<void>;
}> {
  const received: ReceivedPush[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ReceivedPush['body'];
      const push: ReceivedPush = {
        headers: request.headers,
        body,
        notification: JSON.parse(Buffer.from(body.message.data, 'base64').toString('utf8')) as ReceivedPush['notification'],
      };
      received.push(push);
      response.writeHead(respond(push, received.length - 1));
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/webhooks/gmail`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function decodeRaw(raw: string): string {
  return Buffer.from(raw, 'base64url').toString('utf8');
}

export function encodeRaw(message: string): string {
  return Buffer.from(message, 'utf8').toString('base64url');
}
