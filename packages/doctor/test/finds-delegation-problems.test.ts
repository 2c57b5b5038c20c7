// The domain-wide delegation check against the emulated Workspace: a working setup passes; a
// client id the admin never authorised (or authorised without a scope) fails with the exact
// client id and scope list to paste; an unknown sample user and a deleted key are named as such.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGmailEmulator, type GmailEmulator, type ServiceAccountKeyFile } from '@threadlink/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDoctor } from '../src/index.js';
import { resultOf } from './support/deployment.js';

const GOOGLE = 'https://www.googleapis.com/auth/';
const PASTE = [`${GOOGLE}gmail.readonly`, `${GOOGLE}gmail.send`, `${GOOGLE}admin.directory.user.readonly`, `${GOOGLE}admin.directory.group.member.readonly`];
const ID = 'google.domain-wide-delegation';

describe('Workspace domain-wide delegation', () => {
  let google: GmailEmulator;
  let key: ServiceAccountKeyFile;
  let folder: string;
  let keyFile: string;
  beforeEach(async () => {
    google = await startGmailEmulator({ workspaceDomain: 'acme.test' });
    google.workspace.addUser({ email: 'admin@acme.test', isAdmin: true });
    google.workspace.addUser({ email: 'ana@acme.test' });
    key = await google.workspace.createServiceAccount('threadlink');
    folder = await mkdtemp(join(tmpdir(), 'doctor-dwd-'));
    keyFile = join(folder, 'key.json');
    await writeFile(keyFile, JSON.stringify(key));
  });
  afterEach(async () => {
    await google.close();
    await rm(folder, { recursive: true, force: true });
  });

  const run = async (sampleUser = 'ana@acme.test') =>
    resultOf(
      await runDoctor({
        google: {
          delegationKeyFile: keyFile,
          workspaceAdmin: 'admin@acme.test',
          workspaceSampleUser: sampleUser,
          tokenUrl: google.providerOptions.oauthEndpoints.oauth2TokenUrl,
        },
      }),
      ID,
    );

  it('passes when the admin authorised the client id for every scope', async () => {
    google.workspace.authorizeDelegation(key.client_id, PASTE);
    expect(await run()).toMatchObject({
      status: 'pass',
      detail: `Client ID ${key.client_id} (${key.client_email}) gets tokens for admin@acme.test with the Directory scopes and for ana@acme.test with the Gmail scopes.`,
    });
  });

  it('prints the client id and the scopes to paste when the Admin console entry is missing or lacks a scope', async () => {
    const missing = await run();
    expect(missing.status).toBe('fail');
    expect(missing.detail).toBe(
      `Google refused a token for admin@acme.test: client ID ${key.client_id} is not authorised for domain-wide delegation with these scopes.`,
    );
    expect(missing.fix).toContain(`add (or edit) client ID ${key.client_id} with the OAuth scopes ${PASTE.join(',')}`);

    google.workspace.authorizeDelegation(key.client_id, PASTE.slice(1));
    const lacking = await run();
    expect(lacking.detail).toBe(
      `Google refused a token for ana@acme.test: client ID ${key.client_id} is not authorised for domain-wide delegation with these scopes.`,
    );
  });

  it('names an unknown sample user, a deleted key and a file that is not a key', async () => {
    google.workspace.authorizeDelegation(key.client_id, PASTE);
    expect((await run('nobody@acme.test')).detail).toBe('Google does not know nobody@acme.test as an active user of the domain.');
    google.workspace.deleteKey(key.client_email, key.private_key_id);
    expect((await run()).fix).toMatch(/^The key was deleted or the service account disabled/);
    await writeFile(keyFile, JSON.stringify({ installed: { client_id: 'x' } }));
    expect((await run()).detail).toBe(`GOOGLE_DELEGATION_KEY_FILE ${keyFile} is not a service account key file.`);
  });
});
