// Google Workspace domain-wide delegation at the adapter level (issue 19): the admin's service
// account key is checked (connectDirect), the directory is resolved (listMailboxes) and each
// mailbox is opened (openMailbox) — through google-auth-library's JWT client, the Admin SDK
// Directory client and the Gmail client against the emulator's token endpoint and Directory API.
import { isThreadlinkError, type ThreadlinkError } from '@threadlink/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, ANA, BOB, CAROL, CONSOLE_SCOPES, DOMAIN, orgScene, SALES, SUPPORT_GROUP, type OrgScene } from './org-support.js';
import { realClock } from './support.js';

const GOOGLE = 'https://www.googleapis.com/auth/';

describe('connecting a Google Workspace organization by domain-wide delegation', () => {
  let scene: OrgScene | undefined;
  afterEach(async () => {
    await scene?.close();
    scene = undefined;
  });

  it('checks the key with a Directory token for the admin and returns the credentials normalised, the key never logged', async () => {
    scene = await orgScene();
    const { org, key, logger, google } = scene;
    const connected = await org.connectDirect!({ directoryId: 'ACME.test', adminEmail: ADMIN, credentials: key }, { logger, clock: realClock });

    expect(connected).toEqual({
      directoryId: DOMAIN,
      displayName: null,
      credentials: {
        kind: 'google-service-account',
        clientEmail: key.client_email,
        privateKey: key.private_key,
        privateKeyId: key.private_key_id,
        adminEmail: ADMIN,
      },
    });
    expect(google.log.entries.map((entry) => `${entry.operation} ${entry.status}`)).toEqual(['oauth.token 200']);
    expect(logger.lines.join('\n')).not.toContain('PRIVATE KEY');
  });

  it('refuses a file that is not a service account key, and a key Google cannot verify', async () => {
    scene = await orgScene();
    const { org, key, logger } = scene;
    const notAKey = (await org.connectDirect!(
      { directoryId: DOMAIN, adminEmail: ADMIN, credentials: { client_id: key.client_id, client_secret: 'x' } },
      { logger, clock: realClock },
    ).catch((caught: unknown) => caught)) as ThreadlinkError;
    expect(notAKey.code).toBe('INVALID_INPUT');

    // Same client email, another key pair: the signature does not match any key of the account.
    const other = await scene.google.workspace.createServiceAccount('someone-else');
    const forged = { ...key, private_key: other.private_key, private_key_id: other.private_key_id };
    const refused = (await org.connectDirect!({ directoryId: DOMAIN, adminEmail: ADMIN, credentials: forged }, { logger, clock: realClock }).catch(
      (caught: unknown) => caught,
    )) as ThreadlinkError;
    expect(isThreadlinkError(refused) && refused.code).toBe('OAUTH_FAILED');
    expect(refused.message).toContain('Invalid JWT Signature');
  });

  it('tells the admin the exact client id and scopes to paste when the Admin console entry lacks the Directory scope', async () => {
    scene = await orgScene({ scopes: [`${GOOGLE}gmail.readonly`, `${GOOGLE}gmail.send`] });
    const { org, key, logger } = scene;
    const refused = (await org.connectDirect!({ directoryId: DOMAIN, adminEmail: ADMIN, credentials: key }, { logger, clock: realClock }).catch(
      (caught: unknown) => caught,
    )) as ThreadlinkError;

    expect(refused.code).toBe('OAUTH_FAILED');
    expect(refused.message).toContain('unauthorized_client');
    expect(refused.message).toContain(`add client ID ${key.client_id} with the OAuth scopes: ${CONSOLE_SCOPES.join(',')}`);
  });

  it('lists every active user across Directory pages, a group with its nested group, explicit and shared addresses, once each', async () => {
    scene = await orgScene();
    for (let index = 0; index < 520; index += 1) scene.google.workspace.addUser({ email: `user${String(index).padStart(3, '0')}@${DOMAIN}` });
    const { org, grant } = scene;

    const all = await org.listMailboxes(grant(ADMIN), { all: true, groups: [], mailboxes: [], shared: [] });
    expect(all).toHaveLength(520 + 4);
    expect(all.map((mailbox) => mailbox.email)).not.toContain(CAROL);
    expect(all.find((mailbox) => mailbox.email === ANA)).toEqual({ id: ANA, email: ANA, displayName: 'Ana Lima', kind: 'user' });
    expect(scene.google.log.count({ operation: 'directory.users.list' })).toBe(2);

    const chosen = await org.listMailboxes(grant(ADMIN), {
      all: false,
      groups: [`team@${DOMAIN}`],
      mailboxes: [ANA, 'dan@acme.test'],
      shared: [SALES, SUPPORT_GROUP],
    });
    expect(chosen.map(({ email, kind }) => `${email} ${kind}`).sort()).toEqual([
      `${ANA} user`,
      `${BOB} user`,
      `dan@${DOMAIN} user`,
      `${SALES} shared`,
      `${SUPPORT_GROUP} shared`,
    ]);

    const missing = (await org
      .listMailboxes(grant(ADMIN), { all: false, groups: [`nobody@${DOMAIN}`], mailboxes: [], shared: [] })
      .catch((caught: unknown) => caught)) as ThreadlinkError;
    expect(missing.code).toBe('NOT_FOUND');
  });

  it('opens a delegated mailbox with one getProfile, and reports what cannot be opened instead of throwing', async () => {
    scene = await orgScene();
    const { org, grant } = scene;
    const opened = await org.openMailbox(grant(ADMIN), { id: SALES, email: SALES, displayName: 'Sales', kind: 'shared' });
    expect(opened).toMatchObject({ ok: true, scopes: [`${GOOGLE}gmail.readonly`, `${GOOGLE}gmail.send`], displayName: 'Sales' });
    expect(opened.ok && opened.tokens.accessToken).toMatch(/^ya29\./);
    expect(scene.google.log.entries.filter((entry) => entry.mailbox === SALES).map((entry) => entry.operation)).toEqual(['getProfile']);

    const suspended = await org.openMailbox(grant(ADMIN), { id: CAROL, email: CAROL, displayName: null, kind: 'user' });
    expect(suspended).toMatchObject({ ok: false, reason: 'forbidden' });
    const outside = await org.openMailbox(grant(ADMIN), { id: 'eve@elsewhere.test', email: 'eve@elsewhere.test', displayName: null, kind: 'user' });
    expect(outside).toMatchObject({ ok: false, reason: 'forbidden' });
    const group = await org.openMailbox(grant(ADMIN), { id: SUPPORT_GROUP, email: SUPPORT_GROUP, displayName: null, kind: 'shared' });
    expect(group).toMatchObject({ ok: false, reason: 'not_found' });
    expect(!group.ok && group.message).toContain('Google Group or collaborative inbox');

    scene.google.workspace.deleteKey(scene.key.client_email, scene.key.private_key_id);
    const revoked = await org.openMailbox(grant(ADMIN), { id: ANA, email: ANA, displayName: null, kind: 'user' });
    expect(revoked).toMatchObject({ ok: false, reason: 'revoked' });
  });

  it('reports a mailbox forbidden when the Admin console entry lacks a Gmail scope', async () => {
    scene = await orgScene({ scopes: [`${GOOGLE}gmail.readonly`, `${GOOGLE}admin.directory.user.readonly`] });
    const opened = await scene.org.openMailbox(scene.grant(ADMIN), { id: ANA, email: ANA, displayName: null, kind: 'user' });
    expect(opened).toMatchObject({ ok: false, reason: 'forbidden' });
    expect(!opened.ok && opened.message).toContain('unauthorized_client');
  });
});
