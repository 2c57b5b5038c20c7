import { silentLogger } from '@threadlink/core';
import { systemClock } from '@threadlink/core/provider';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, BEN, CARA, connectOrgMailbox, consentAsAdmin, DAN, grantedSession, REDIRECT_URI, SALES, seedTenant, SUPPORT } from './org-support.js';
import { expectThreadlinkError, pullAll, startHarness, type Harness } from './support.js';

const CANARY = 'CANARY-org-shared-mailbox-body-7f3e';

async function readAll(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

describe('Microsoft 365 organizations: application permissions (issue 19)', () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  it('an admin consents once for the tenant; completeAdminConsent proves a client-credentials token and keeps the MSAL cache', async () => {
    harness = await startHarness();
    seedTenant(harness);
    const organization = harness.provider.organization!;
    const url = new URL(await organization.adminConsentUrl!({ state: 'opaque-state', redirectUri: REDIRECT_URI }));
    expect(url.pathname).toBe('/organizations/v2.0/adminconsent');
    expect(url.searchParams.get('scope')).toBe('https://graph.microsoft.com/.default');

    // A user who is not an admin cannot grant tenant-wide consent.
    await expect(harness.ms.authorize(url.toString(), { email: BEN })).rejects.toThrow(/AADSTS90094/);
    const redirect = new URL(await harness.ms.authorize(url.toString(), { email: ADMIN }));
    expect(Object.fromEntries(redirect.searchParams)).toMatchObject({ tenant: harness.ms.tenantId, state: 'opaque-state', admin_consent: 'True' });

    const result = await organization.completeAdminConsent!(redirect.searchParams, { redirectUri: REDIRECT_URI, logger: silentLogger, clock: systemClock });
    expect(result.directoryId).toBe(harness.ms.tenantId);
    expect(result.credentials).toEqual({ kind: 'microsoft-app', cache: expect.stringContaining('AccessToken') });
    expect(harness.ms.log.entries.filter((entry) => entry.operation === 'identity.token')).toHaveLength(1);
  });

  it('a declined consent, or roles that do not cover the mode, fail completeAdminConsent', async () => {
    harness = await startHarness();
    seedTenant(harness);
    const organization = harness.provider.organization!;
    const url = await organization.adminConsentUrl!({ state: 's', redirectUri: REDIRECT_URI });
    const declined = new URL(await harness.ms.authorize(url, { email: ADMIN, deny: true }));
    expect(declined.searchParams.get('error')).toBe('access_denied');
    const context = { redirectUri: REDIRECT_URI, logger: silentLogger, clock: systemClock };
    await expectThreadlinkError(organization.completeAdminConsent!(declined.searchParams, context), 'OAUTH_FAILED');

    // Full mode reads bodies: an app registered without Mail.Read.All is refused at connect.
    harness.ms.org.configureAppRoles(['Mail.ReadBasic.All', 'Mail.Send', 'User.Read.All']);
    const granted = new URL(await harness.ms.authorize(url, { email: ADMIN }));
    const error = await expectThreadlinkError(organization.completeAdminConsent!(granted.searchParams, context), 'INSUFFICIENT_SCOPE');
    expect(error.message).toContain('Mail.Read.All');
  });

  it('lists users, a group’s transitive members and shared mailboxes with their kind', async () => {
    harness = await startHarness();
    const { groupId } = seedTenant(harness);
    const grant = await consentAsAdmin(harness);
    const organization = harness.provider.organization!;

    const chosen = await organization.listMailboxes(grant, { all: false, groups: [groupId], mailboxes: [DAN], shared: [SALES, SUPPORT] });
    expect(chosen.map(({ email, kind }) => ({ email, kind })).sort((a, b) => a.email.localeCompare(b.email))).toEqual([
      { email: BEN, kind: 'user' },
      { email: CARA, kind: 'user' },
      { email: DAN, kind: 'user' },
      { email: SALES, kind: 'shared' },
      { email: SUPPORT, kind: 'shared' },
    ]);
    expect(chosen.find((mailbox) => mailbox.email === BEN)?.id).toBe(harness.ms.userId(BEN));

    const everyone = await organization.listMailboxes(grant, { all: true, groups: [], mailboxes: [], shared: [SALES] });
    expect(everyone).toHaveLength(6);
    expect(everyone.filter((mailbox) => mailbox.kind === 'shared').map((mailbox) => mailbox.email)).toEqual([SALES]);

    // A user deleted from the tenant leaves the directory and their mailbox answers 404.
    const dan = everyone.find((mailbox) => mailbox.email === DAN)!;
    harness.ms.org.removeUser(DAN);
    const after = await organization.listMailboxes(grant, { all: true, groups: [], mailboxes: [], shared: [] });
    expect(after.map((mailbox) => mailbox.email)).not.toContain(DAN);
    expect(after).toHaveLength(5);
    expect(await organization.listMailboxes(grant, { all: false, groups: [], mailboxes: [DAN], shared: [] })).toEqual([]);
    expect(await organization.openMailbox(grant, dan)).toMatchObject({ ok: false, reason: 'not_found' });
  });

  it('openMailbox: reachable, outside the access policy (forbidden), gone (not_found), consent revoked (revoked)', async () => {
    harness = await startHarness();
    seedTenant(harness);
    const grant = await consentAsAdmin(harness);
    const organization = harness.provider.organization!;
    const mailboxes = await organization.listMailboxes(grant, { all: true, groups: [], mailboxes: [], shared: [] });
    const byEmail = (email: string) => mailboxes.find((mailbox) => mailbox.email === email)!;

    harness.ms.org.restrictAppAccess([BEN, SALES]);
    const ben = await organization.openMailbox(grant, byEmail(BEN));
    expect(ben).toMatchObject({ ok: true, scopes: expect.arrayContaining(['Mail.Read.All', 'Mail.Send']) });
    const cara = await organization.openMailbox(grant, byEmail(CARA));
    expect(cara).toMatchObject({ ok: false, reason: 'forbidden', message: expect.stringContaining('AccessPolicy') });
    expect(await organization.openMailbox(grant, { ...byEmail(BEN), id: '00000000-0000-0000-0000-000000000000' })).toMatchObject({
      ok: false,
      reason: 'not_found',
    });

    harness.ms.org.revokeAdminConsent();
    expect(await organization.openMailbox(grant, byEmail(BEN))).toMatchObject({ ok: false, reason: 'revoked' });
  });

  it('a shared mailbox syncs by push, and its body, attachment, reply and new message all come from that mailbox', async () => {
    harness = await startHarness();
    seedTenant(harness);
    const grant = await consentAsAdmin(harness);
    const sales = await connectOrgMailbox(harness, grant, SALES, 'shared');
    expect(harness.ms.subscriptions().map((subscription) => subscription.mailbox)).toEqual(expect.arrayContaining([SALES]));
    expect(harness.ms.subscriptions().every((subscription) => subscription.resource.startsWith(`users/${harness!.ms.userId(SALES)}/`))).toBe(true);

    await harness.ms.deliver({
      from: 'client@acme.com',
      to: SALES,
      subject: 'Quote for 40 seats',
      html: `<p>Please send the <b>quote</b> ${CANARY}</p>`,
      attachments: [{ filename: 'seats.csv', content: Buffer.from(`seats,40,${CANARY}\n`), contentType: 'text/csv' }],
    });
    await harness.ms.flushNotifications();
    expect(harness.hints.map((hint) => hint.connectionId)).toContain(sales.connection.id);
    const changes = await pullAll(harness.provider, sales);
    const upsert = changes.find((change) => change.type === 'upsert');
    if (upsert?.type !== 'upsert') throw new Error('the shared mailbox synced nothing');
    expect(upsert.message).toMatchObject({ subject: 'Quote for 40 seats', from: { address: 'client@acme.com' } });

    const body = await harness.provider.fetchBody(sales.session, upsert.message.providerMessageId);
    expect(body.html).toContain('<b>quote</b>');
    const attachmentId = body.attachments[0]?.id;
    if (!attachmentId) throw new Error('the body listed no attachment');
    const attachment = await harness.provider.fetchAttachment!(sales.session, upsert.message.providerMessageId, attachmentId, { maxBytes: 1024 });
    expect(await readAll(attachment.stream)).toBe(`seats,40,${CANARY}\n`);

    const { providerMessageId, providerThreadId, internetMessageId, references, subject, from, to, cc, replyTo } = upsert.message;
    await harness.provider.send(sales.session, {
      original: { providerMessageId, providerThreadId, internetMessageId, references, subject, from, to, cc, replyTo },
      draft: { text: 'Quote attached tomorrow.' },
    });
    await harness.provider.compose!(sales.session, { to: [{ address: 'client@acme.com' }], cc: [], bcc: [], subject: 'Your quote', text: 'Here it is.' });
    const sent = harness.ms.sent(SALES);
    expect(sent.map((message) => ({ subject: message.subject, from: message.from?.address }))).toEqual([
      { subject: 'RE: Quote for 40 seats', from: SALES },
      { subject: 'Your quote', from: SALES },
    ]);
    // Every Graph call of the org mailbox named it by id; none used /me.
    expect(harness.ms.log.entries.filter((entry) => /\/me(\/|$|\?)/.test(entry.path))).toEqual([]);
    // Privacy canary at the adapter's edges: the body reached the caller of fetchBody only — not the
    // synced metadata, the hints, the logs, the stored token or the org's credentials.
    const kept = JSON.stringify({
      changes,
      hints: harness.hints,
      logs: harness.logs,
      connection: sales.connection,
      credentials: grant.credentials,
      updates: grant.updates,
    });
    expect(kept).not.toContain(CANARY);
  });

  it('revoked consent → AUTH_REVOKED; a mailbox taken out of the access policy → MAILBOX_FORBIDDEN; a missing role → INSUFFICIENT_SCOPE', async () => {
    harness = await startHarness();
    seedTenant(harness);
    const grant = await consentAsAdmin(harness);
    const ben = await connectOrgMailbox(harness, grant, BEN, 'user');
    await harness.ms.deliver({ from: 'client@acme.com', to: BEN, subject: 'Hello', text: 'hi' });
    const [first] = (await pullAll(harness.provider, ben)).filter((change) => change.type === 'upsert');
    if (first?.type !== 'upsert') throw new Error('nothing synced');

    harness.ms.org.restrictAppAccess([SALES]);
    await expectThreadlinkError(harness.provider.pullChanges(ben.session, ben.connection.cursor as string), 'MAILBOX_FORBIDDEN');
    harness.ms.org.restrictAppAccess(null);

    // An admin unticks Mail.Read.All: the next token lacks the role, Graph refuses the body.
    harness.ms.org.configureAppRoles(['Mail.ReadBasic.All', 'Mail.Send', 'User.Read.All']);
    harness.ms.org.revokeAdminConsent();
    const regrant = new URL(
      await harness.ms.authorize(await harness.provider.organization!.adminConsentUrl!({ state: 's', redirectUri: REDIRECT_URI }), { email: ADMIN }),
    );
    expect(regrant.searchParams.get('admin_consent')).toBe('True');
    const fresh = grantedSession(harness, ben.connection, grant);
    await expectThreadlinkError(harness.provider.fetchBody(fresh.session, first.message.providerMessageId), 'INSUFFICIENT_SCOPE');

    harness.ms.org.revokeAdminConsent();
    await expectThreadlinkError(harness.provider.pullChanges(fresh.session, ben.connection.cursor as string), 'AUTH_REVOKED');
  });

  it('a delegated token cannot reach another mailbox through /users/{id}, nor sign in to a shared mailbox', async () => {
    harness = await startHarness();
    seedTenant(harness);
    const ana = await harness.connect(ADMIN);
    const token = ana.session.tokens().accessToken;
    const other = await fetch(`${harness.ms.url}/v1.0/users/${harness.ms.userId(SALES)}/mailFolders/inbox/messages`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(other.status).toBe(403);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('ErrorAccessDenied');
    const own = await fetch(`${harness.ms.url}/v1.0/users/${harness.ms.userId(ADMIN)}/mailFolders/inbox/messages`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(own.status).toBe(200);
    await expect(harness.connect(SALES)).rejects.toThrow(/AADSTS50057/);
  });
});
