// Sealing keys, the public URL and the OAuth redirect URI: pure configuration, no provider and
// no network needed (with no provider configured, nothing is called).
import { generateSealingKey } from '@threadlink/core';
import { describe, expect, it } from 'vitest';
import { doctorConfigFromEnv, runDoctor, type DoctorConfig } from '../src/index.js';
import { resultOf } from './support/deployment.js';

async function check(id: string, config: DoctorConfig) {
  return resultOf(await runDoctor(config), id);
}

const GENERATE = "node -e \"console.log(require('node:crypto').randomBytes(32).toString('base64url'))\"";

describe('sealing keys', () => {
  it('passes a rotation of 32-byte keys and names the sealing one', async () => {
    const result = await check('sealing-keys', {
      sealingKeys: [
        { id: 'k2', key: generateSealingKey() },
        { id: 'k1', key: Buffer.alloc(32, 7).toString('hex') },
      ],
    });
    expect(result).toMatchObject({ status: 'pass', detail: '2 keys, each 32 bytes; "k2" seals new tokens, "k1" still open older ones.' });
  });

  it('fails a key that is not 32 bytes, naming it and its length', async () => {
    const result = await check('sealing-keys', {
      sealingKeys: [
        { id: 'k1', key: generateSealingKey() },
        { id: 'short', key: Buffer.alloc(16, 1).toString('base64url') },
      ],
    });
    expect(result.status).toBe('fail');
    expect(result.detail).toMatch(/^key "short" decodes to 16 bytes, not 32 \(/);
    expect(result.fix).toBe(
      `Each key must be 32 random bytes as base64url, base64 or hex (generate with ${GENERATE}); write them as THREADLINK_SEALING_KEYS=id:key,id2:key2.`,
    );
  });

  it('fails when no key is set', async () => {
    const result = await check('sealing-keys', {});
    expect(result).toMatchObject({
      status: 'fail',
      detail: 'No sealing key is set (THREADLINK_SEALING_KEY), so createThreadlink cannot store tokens.',
      fix: `Generate one with ${GENERATE} and set THREADLINK_SEALING_KEY=<key> (THREADLINK_SEALING_KEY_ID=<id> to name it); keep it in your secret store, because losing it orphans every connected mailbox.`,
    });
  });

  it('fails a key written without its id, and two keys sharing one', async () => {
    const withoutId = doctorConfigFromEnv({ THREADLINK_SEALING_KEYS: generateSealingKey() });
    expect((await check('sealing-keys', withoutId)).detail).toBe('key #1 has no id (expected id:key).');
    const key = generateSealingKey();
    const duplicated = await check('sealing-keys', {
      sealingKeys: [
        { id: 'k1', key },
        { id: 'k1', key: generateSealingKey() },
      ],
    });
    expect(duplicated).toMatchObject({ status: 'fail', detail: 'The keys do not work together: Duplicate sealing key id "k1".' });
  });
});

describe('public URL', () => {
  it('passes a public https URL and gives the exact redirect URI to register', async () => {
    const report = await runDoctor({ publicUrl: 'https://crm.acme.example/threadlink/', google: {} });
    expect(resultOf(report, 'public-url')).toMatchObject({ status: 'pass', detail: 'https://crm.acme.example/threadlink is https.' });
    expect(resultOf(report, 'oauth-redirect-uri')).toMatchObject({
      status: 'pass',
      detail: 'Register exactly https://crm.acme.example/threadlink/oauth/callback in the Google OAuth client (Authorized redirect URIs).',
    });
  });

  it('fails plain http on a public host, for the URL and the redirect URI', async () => {
    const report = await runDoctor({ publicUrl: 'http://crm.acme.example/threadlink' });
    expect(resultOf(report, 'public-url')).toMatchObject({
      status: 'fail',
      detail: 'http://crm.acme.example/threadlink is plain http; Pub/Sub push endpoints and Graph notification URLs must be https.',
      fix: 'Serve the app over HTTPS (a valid, publicly trusted certificate) and set THREADLINK_PUBLIC_URL to the https:// address.',
    });
    expect(resultOf(report, 'oauth-redirect-uri')).toMatchObject({
      status: 'fail',
      detail: 'The redirect URI http://crm.acme.example/threadlink/oauth/callback is plain http; Google and Entra ID accept http only for localhost.',
    });
  });

  it('warns, without failing, for loopback and private addresses', async () => {
    for (const url of ['http://localhost:3000/threadlink', 'https://127.0.0.1:8443/threadlink', 'https://10.0.4.2/threadlink']) {
      const report = await runDoctor({ publicUrl: url });
      expect(resultOf(report, 'public-url').status).toBe('warn');
      // Both consoles accept http redirect URIs on localhost, so only the public-url check speaks up.
      expect(resultOf(report, 'oauth-redirect-uri').status).toBe('pass');
    }
    const loopback = await check('public-url', { publicUrl: 'http://localhost:3000/threadlink' });
    expect(loopback.fix).toBe(
      'Before connecting real mailboxes, serve the app on a public https address (your domain or a tunnel) and set THREADLINK_PUBLIC_URL to it.',
    );
  });

  it('fails a missing or malformed URL and skips what depends on it', async () => {
    const missing = await runDoctor({});
    expect(resultOf(missing, 'public-url')).toMatchObject({ status: 'fail', detail: 'THREADLINK_PUBLIC_URL is not set.' });
    expect(resultOf(missing, 'oauth-redirect-uri').status).toBe('skip');
    expect((await check('public-url', { publicUrl: 'crm.acme.example/threadlink' })).detail).toBe(
      'THREADLINK_PUBLIC_URL "crm.acme.example/threadlink" is not an absolute URL.',
    );
    expect((await check('public-url', { publicUrl: 'https://crm.acme.example/threadlink?x=1' })).detail).toBe(
      'THREADLINK_PUBLIC_URL carries a query or fragment, which providers would mangle.',
    );
  });
});
