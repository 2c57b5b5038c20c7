// OAuth client ids and secrets, tenants and scope modes: the mistakes people make copying values
// out of the Google Cloud and Entra ID consoles. No network: nothing here needs a provider.
import { describe, expect, it } from 'vitest';
import { doctorConfigFromEnv, runDoctor, type DoctorConfig } from '../src/index.js';
import { resultOf } from './support/deployment.js';

const GOOGLE = 'https://www.googleapis.com/auth/';
const GOOD_MICROSOFT = { clientId: '6731de76-14a6-49ae-97bc-6eba6914391e', clientSecret: 'p8Q8Q~g2k4R9xYz.Nw1sT0vUa3bC5dE7fG9hJ', tenant: 'common' };

async function check(id: string, config: DoctorConfig) {
  return resultOf(await runDoctor(config), id);
}

describe('Google OAuth client', () => {
  it('fails a missing secret and a value that is not an OAuth client id', async () => {
    expect(await check('google.oauth-client', { google: { clientId: '1234-abc.apps.googleusercontent.com' } })).toMatchObject({
      status: 'fail',
      detail: 'GOOGLE_CLIENT_SECRET is not set.',
      fix: 'Copy them from Google Cloud console → APIs & Services → Credentials → your OAuth 2.0 Client ID (type Web application).',
    });
    expect(await check('google.oauth-client', { google: { clientId: 'acme-mail-prod', clientSecret: 'GOCSPX-x' } })).toMatchObject({
      status: 'fail',
      detail: 'GOOGLE_CLIENT_ID "acme-mail-prod" is not an OAuth client id (those end in .apps.googleusercontent.com).',
    });
  });
});

describe('Gmail scopes', () => {
  it('lists the scopes of the mode when no consent screen is given', async () => {
    expect(await check('google.scopes', { google: { mode: 'metadata' } })).toMatchObject({
      status: 'pass',
      detail: 'Mode metadata: threadlink requests gmail.metadata + gmail.send; list exactly these on the OAuth consent screen.',
    });
  });

  it('fails an unknown mode and a consent screen that lacks a needed scope', async () => {
    expect((await check('google.scopes', { google: { mode: 'readonly' } })).detail).toBe('GOOGLE_GMAIL_MODE "readonly" is not a mode.');
    const lacking = await check('google.scopes', { google: { consentScopes: [`${GOOGLE}gmail.readonly`] } });
    expect(lacking).toMatchObject({ status: 'fail', detail: 'The consent screen (GOOGLE_OAUTH_SCOPES) lacks gmail.send, which mode full requests.' });
  });

  it('fails gmail.metadata beside gmail.readonly, which turns every body fetch into a 403', async () => {
    const config = doctorConfigFromEnv({ GOOGLE_CLIENT_ID: 'x.apps.googleusercontent.com', GOOGLE_OAUTH_SCOPES: 'gmail.readonly gmail.send, gmail.metadata' });
    expect(await check('google.scopes', config)).toMatchObject({
      status: 'fail',
      detail:
        'The consent screen lists gmail.metadata beside gmail.readonly: Google then applies the metadata restrictions, and every body fetch fails with 403 "Metadata scope doesn\'t allow format FULL".',
      fix: 'Remove gmail.metadata from the consent screen in full mode (gmail.readonly + gmail.send are enough), then have users reconnect.',
    });
  });

  it('warns about Gmail scopes the mode never uses', async () => {
    const result = await check('google.scopes', {
      google: { mode: 'metadata', consentScopes: [`${GOOGLE}gmail.metadata`, `${GOOGLE}gmail.send`, `${GOOGLE}gmail.modify`] },
    });
    expect(result).toMatchObject({ status: 'warn', detail: 'The consent screen also lists gmail.modify, which threadlink never uses in mode metadata.' });
  });
});

describe('Entra ID app registration', () => {
  it('passes a well-formed registration and lists the permissions to grant', async () => {
    expect(await check('microsoft.app-registration', { microsoft: { ...GOOD_MICROSOFT, mode: 'metadata' } })).toMatchObject({
      status: 'pass',
      detail: `Client ${GOOD_MICROSOFT.clientId}, tenant common, mode metadata: grant the delegated Graph permissions Mail.ReadBasic, Mail.Send, offline_access, User.Read.`,
    });
  });

  it('lists Mail.ReadWrite only for draft replies, full mode’s default', async () => {
    expect((await check('microsoft.app-registration', { microsoft: GOOD_MICROSOFT })).detail).toBe(
      `Client ${GOOD_MICROSOFT.clientId}, tenant common, mode full, replies draft: grant the delegated Graph permissions Mail.ReadBasic, Mail.Send, offline_access, User.Read, Mail.Read, Mail.ReadWrite.`,
    );
    expect((await check('microsoft.app-registration', { microsoft: { ...GOOD_MICROSOFT, replies: 'direct' } })).detail).toBe(
      `Client ${GOOD_MICROSOFT.clientId}, tenant common, mode full, replies direct: grant the delegated Graph permissions Mail.ReadBasic, Mail.Send, offline_access, User.Read, Mail.Read.`,
    );
    expect(doctorConfigFromEnv({ MICROSOFT_CLIENT_ID: GOOD_MICROSOFT.clientId, MICROSOFT_REPLIES: 'direct' }).microsoft).toEqual({
      clientId: GOOD_MICROSOFT.clientId,
      replies: 'direct',
    });
  });

  it('fails an unknown reply route, and draft replies in metadata mode', async () => {
    expect((await check('microsoft.app-registration', { microsoft: { ...GOOD_MICROSOFT, replies: 'smtp' } })).detail).toBe(
      'MICROSOFT_REPLIES "smtp" is not a reply route.',
    );
    expect(await check('microsoft.app-registration', { microsoft: { ...GOOD_MICROSOFT, mode: 'metadata', replies: 'draft' } })).toMatchObject({
      status: 'fail',
      detail: 'MICROSOFT_REPLIES "draft" needs full mode: draft replies need Mail.ReadWrite, which also grants bodies.',
      fix: 'Unset MICROSOFT_REPLIES in metadata mode (its replies are direct), as outlookProvider refuses the combination.',
    });
  });

  it("fails the secret's ID pasted instead of its value", async () => {
    const result = await check('microsoft.app-registration', { microsoft: { ...GOOD_MICROSOFT, clientSecret: '0f6a3b1c-2d4e-4f50-8a9b-7c6d5e4f3a2b' } });
    expect(result).toMatchObject({
      status: 'fail',
      detail: 'MICROSOFT_CLIENT_SECRET looks like the secret’s ID (a GUID), not its value.',
      fix: 'Create a new client secret under Certificates & secrets and copy its Value column, shown only once.',
    });
  });

  it('fails a client id that is not a GUID, a bad tenant and an unknown mode together', async () => {
    const result = await check('microsoft.app-registration', { microsoft: { ...GOOD_MICROSOFT, clientId: 'acme-crm', tenant: 'acme crm', mode: 'all' } });
    expect(result.detail).toBe(
      'MICROSOFT_CLIENT_ID "acme-crm" is not a GUID; MICROSOFT_TENANT "acme crm" is neither common/organizations/consumers, a tenant id (GUID) nor a domain; MICROSOFT_MAIL_MODE "all" is not a mode.',
    );
  });
});

describe('reading the environment', () => {
  it('maps the documented variables, treats empty ones as unset, and detects which providers are meant', () => {
    const config = doctorConfigFromEnv({
      THREADLINK_PUBLIC_URL: 'https://crm.acme.example/threadlink',
      THREADLINK_SEALING_KEYS: 'k2:AAA, k1:BBB',
      DATABASE_URL: '',
      THREADLINK_PGLITE_DIR: '/var/lib/crm/pglite',
      GOOGLE_PUBSUB_TOPIC: 'projects/acme/topics/gmail',
      GOOGLE_APPLICATION_CREDENTIALS: '/etc/keys/doctor.json',
      GOOGLE_PUBSUB_API_URL: 'http://127.0.0.1:9',
      MICROSOFT_TENANT: 'organizations',
    });
    expect(config).toEqual({
      publicUrl: 'https://crm.acme.example/threadlink',
      sealingKeys: [
        { id: 'k2', key: 'AAA' },
        { id: 'k1', key: 'BBB' },
      ],
      store: { kind: 'pglite', dataDir: '/var/lib/crm/pglite' },
      google: { pubsubTopic: 'projects/acme/topics/gmail', credentialsFile: '/etc/keys/doctor.json', pubsubApiUrl: 'http://127.0.0.1:9' },
    });
    // The example app's single-key variables work too.
    expect(doctorConfigFromEnv({ THREADLINK_SEALING_KEY: 'new', THREADLINK_PREVIOUS_SEALING_KEYS: 'old:OLD' }).sealingKeys).toEqual([
      { id: 'primary', key: 'new' },
      { id: 'old', key: 'OLD' },
    ]);
  });

  it("finds PGlite where the example keeps it: THREADLINK_DATA_DIR's pglite folder, unless THREADLINK_PGLITE_DIR says otherwise", () => {
    expect(doctorConfigFromEnv({ THREADLINK_DATA_DIR: '/srv/crm/.threadlink-data' }).store).toEqual({
      kind: 'pglite',
      dataDir: '/srv/crm/.threadlink-data/pglite',
    });
    expect(doctorConfigFromEnv({ THREADLINK_DATA_DIR: '/srv/crm/data', THREADLINK_PGLITE_DIR: '/var/lib/pglite' }).store).toEqual({
      kind: 'pglite',
      dataDir: '/var/lib/pglite',
    });
    expect(doctorConfigFromEnv({ THREADLINK_DATA_DIR: '/srv/crm/data', DATABASE_URL: 'postgres://db/crm' }).store).toEqual({
      kind: 'postgres',
      connectionString: 'postgres://db/crm',
    });
  });
});
