// The emulated Workspace, through the real clients: google-auth-library's JWT client (gtoken's
// jwt-bearer grant) and the Admin SDK Directory client. The token endpoint verifies the RS256
// signature against the service account's keys, the audience, the iat/exp window, the scopes the
// admin authorised for the client id and the `sub`; issued tokens act as `sub` on users/me.
import { createSign } from 'node:crypto';
import { admin, type admin_directory_v1 } from '@googleapis/admin';
import { JWT } from 'google-auth-library';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGmailEmulator, type GmailEmulator, type ServiceAccountKeyFile } from '../src/gmail/index.js';
import { GOOGLE, gmailFor } from './gmail-helpers.js';

const GMAIL = [`${GOOGLE}gmail.readonly`, `${GOOGLE}gmail.send`];
const USERS = `${GOOGLE}admin.directory.user.readonly`;

function jwtClient(emulator: GmailEmulator, key: ServiceAccountKeyFile, subject: string, scopes: string[]): JWT {
  const client = new JWT({ email: key.client_email, key: key.private_key, keyId: key.private_key_id, scopes, subject });
  const tokenUrl = emulator.providerOptions.oauthEndpoints.oauth2TokenUrl;
  client.transporter.interceptors.request.add({
    resolved: async (config) => (String(config.url) === 'https://oauth2.googleapis.com/token' ? { ...config, url: new URL(tokenUrl) } : config),
  });
  return client;
}

/** A hand-made assertion, for claims gtoken would never sign. */
function assertion(key: ServiceAccountKeyFile, claims: Record<string, unknown>): string {
  const encode = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${encode({ alg: 'RS256', typ: 'JWT' })}.${encode(claims)}`;
  return `${input}.${createSign('RSA-SHA256').update(input).sign(key.private_key, 'base64url')}`;
}

async function postAssertion(emulator: GmailEmulator, jwt: string): Promise<{ status: number; body: Record<string, string> }> {
  const response = await fetch(emulator.providerOptions.oauthEndpoints.oauth2TokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: jwt }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}

describe('Gmail emulator: domain-wide delegation and the Directory API', () => {
  let emulator: GmailEmulator;
  let key: ServiceAccountKeyFile;
  beforeEach(async () => {
    emulator = await startGmailEmulator({ workspaceDomain: 'acme.test' });
    emulator.workspace.addUser({ email: 'admin@acme.test', isAdmin: true });
    emulator.workspace.addUser({ email: 'ana@acme.test', name: 'Ana Lima' });
    emulator.workspace.addUser({ email: 'carol@acme.test', suspended: true });
    key = await emulator.workspace.createServiceAccount('sync');
    emulator.workspace.authorizeDelegation(key.client_id, [...GMAIL, USERS]);
  });
  afterEach(async () => {
    await emulator.close();
  });

  it('issues a token acting as the delegated user on users/me, with no refresh token', async () => {
    const client = jwtClient(emulator, key, 'ana@acme.test', GMAIL);
    const { data } = await gmailFor(emulator, client).users.getProfile({ userId: 'me' });
    expect(data.emailAddress).toBe('ana@acme.test');
    expect(client.credentials.refresh_token).toBe('jwt-placeholder');
    const denied = await gmailFor(emulator, client)
      .users.getProfile({ userId: 'admin@acme.test' })
      .catch((error: { status: number }) => error.status);
    expect(denied).toBe(403);
  });

  it('refuses a scope not authorised for the client id, an unknown or suspended sub, and a withdrawn delegation as Google does', async () => {
    const unauthorised = await jwtClient(emulator, key, 'ana@acme.test', [`${GOOGLE}gmail.modify`])
      .authorize()
      .catch((error: Error) => error.message);
    expect(unauthorised).toBe(
      'unauthorized_client: Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.',
    );
    for (const sub of ['carol@acme.test', 'eve@elsewhere.test']) {
      const refused = await jwtClient(emulator, key, sub, GMAIL)
        .authorize()
        .catch((error: Error) => error.message);
      expect(refused).toBe('invalid_grant: Invalid email or User ID');
    }
    emulator.workspace.revokeDelegation(key.client_id);
    const withdrawn = await jwtClient(emulator, key, 'ana@acme.test', GMAIL)
      .authorize()
      .catch((error: Error) => error.message);
    expect(withdrawn).toMatch(/^unauthorized_client/);
  });

  it('verifies the signature, the audience and the one-hour window of the assertion', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: key.client_email,
      scope: GMAIL.join(' '),
      aud: 'https://oauth2.googleapis.com/token',
      iat: now,
      exp: now + 3600,
      sub: 'ana@acme.test',
    };
    expect((await postAssertion(emulator, assertion(key, claims))).status).toBe(200);

    const other = await emulator.workspace.createServiceAccount('other');
    expect((await postAssertion(emulator, assertion({ ...key, private_key: other.private_key }, claims))).body).toEqual({
      error: 'invalid_grant',
      error_description: 'Invalid JWT Signature.',
    });
    expect((await postAssertion(emulator, assertion(key, { ...claims, aud: 'https://example.test/token' }))).body.error_description).toMatch(/audience/);
    expect((await postAssertion(emulator, assertion(key, { ...claims, exp: now + 7200 }))).body.error_description).toMatch(/short-lived token/);
    expect((await postAssertion(emulator, assertion(key, { ...claims, iat: now - 7200, exp: now - 3600 }))).body.error_description).toMatch(
      /short-lived token/,
    );

    emulator.workspace.deleteKey(key.client_email, key.private_key_id);
    expect((await postAssertion(emulator, assertion(key, claims))).body.error_description).toBe('Invalid JWT Signature.');
  });

  it('lists users for an admin with the Directory scope, in pages, and refuses a non-admin or a missing scope', async () => {
    for (let index = 0; index < 5; index += 1) emulator.workspace.addUser({ email: `user${index}@acme.test` });
    const directory = (auth: JWT): admin_directory_v1.Admin =>
      admin({
        version: 'directory_v1',
        auth: auth as unknown as admin_directory_v1.Options['auth'],
        rootUrl: emulator.providerOptions.directoryRootUrl,
      } as admin_directory_v1.Options);
    const api = directory(jwtClient(emulator, key, 'admin@acme.test', [USERS]));
    const first = await api.users.list({ customer: 'my_customer', maxResults: 4 });
    expect(first.data.users?.map((user) => user.primaryEmail)).toEqual(['admin@acme.test', 'ana@acme.test', 'carol@acme.test', 'user0@acme.test']);
    expect(first.data.users?.[2]?.suspended).toBe(true);
    const second = await api.users.list({ customer: 'my_customer', maxResults: 4, pageToken: first.data.nextPageToken ?? '' });
    expect(second.data.users?.map((user) => user.primaryEmail)).toEqual(['user1@acme.test', 'user2@acme.test', 'user3@acme.test', 'user4@acme.test']);
    expect(second.data.nextPageToken).toBeUndefined();

    const notAdmin = await directory(jwtClient(emulator, key, 'ana@acme.test', [USERS]))
      .users.list({ customer: 'my_customer' })
      .catch((error: { status: number; message: string }) => `${error.status} ${error.message}`);
    expect(notAdmin).toBe('403 Not Authorized to access this resource/api');
    const noScope = await directory(jwtClient(emulator, key, 'admin@acme.test', GMAIL))
      .users.list({ customer: 'my_customer' })
      .catch((error: { status: number }) => error.status);
    expect(noScope).toBe(403);
  });

  it('lists a group’s members and answers 404 for an unknown group', async () => {
    emulator.workspace.authorizeDelegation(key.client_id, [...GMAIL, USERS, `${GOOGLE}admin.directory.group.member.readonly`]);
    emulator.workspace.addGroup({ email: 'team@acme.test', members: [{ email: 'ana@acme.test', type: 'USER' }] });
    const api = admin({
      version: 'directory_v1',
      auth: jwtClient(emulator, key, 'admin@acme.test', [`${GOOGLE}admin.directory.group.member.readonly`]) as unknown as admin_directory_v1.Options['auth'],
      rootUrl: emulator.providerOptions.directoryRootUrl,
    } as admin_directory_v1.Options);
    const { data } = await api.members.list({ groupKey: 'team@acme.test' });
    expect(data.members).toEqual([
      {
        kind: 'admin#directory#member',
        email: 'ana@acme.test',
        id: emulator.workspace.users.get('ana@acme.test')?.id,
        role: 'MEMBER',
        type: 'USER',
        status: 'ACTIVE',
      },
    ]);
    const missing = await api.members.list({ groupKey: 'nobody@acme.test' }).catch((error: { status: number }) => error.status);
    expect(missing).toBe(404);
  });
});
