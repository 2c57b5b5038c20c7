// The organization (application permissions) check against the Graph emulator's identity and
// Graph endpoints: no consent yet, wrong secret, roles short of the mode, a mailbox outside the
// access policy, and the healthy case. The doctor talks plain HTTPS to the emulator's
// self-signed origin through an injected fetch that trusts its CA.
import { request as httpsRequest } from 'node:https';
import { startGraphEmulator, type GraphEmulator } from '@threadlink/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDoctor, type DoctorConfig } from '../src/index.js';
import { resultOf } from './support/deployment.js';

let ms: GraphEmulator;

/** fetch over node:https trusting the emulator's CA (the doctor's `fetch` option). */
function trustingFetch(ca: string): typeof fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const body = init.body === undefined || init.body === null ? undefined : String(init.body);
    const headers = new Headers(init.headers);
    return new Promise<Response>((resolve, reject) => {
      const outgoing = httpsRequest(url, { method: init.method ?? 'GET', ca, headers: Object.fromEntries(headers) }, (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: incoming.statusCode ?? 500 })));
      });
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }) as typeof fetch;
}

beforeAll(async () => {
  ms = await startGraphEmulator();
  ms.addMailbox({ email: 'admin@contoso.com' });
  ms.addMailbox({ email: 'ben@contoso.com' });
  ms.org.makeAdmin('admin@contoso.com');
  ms.org.addSharedMailbox({ email: 'sales@contoso.com' });
});
afterAll(() => ms.close());

function config(microsoft: Partial<NonNullable<DoctorConfig['microsoft']>> = {}): DoctorConfig {
  return {
    microsoft: {
      clientId: ms.providerOptions.clientId,
      clientSecret: ms.providerOptions.clientSecret,
      authorityHost: ms.identityUrl,
      graphBaseUrl: ms.secureUrl,
      orgTenant: ms.tenantId,
      orgSampleMailbox: 'sales@contoso.com',
      ...microsoft,
    },
    fetch: trustingFetch(ms.providerOptions.caCertificate),
  };
}

async function orgCheck(microsoft: Partial<NonNullable<DoctorConfig['microsoft']>> = {}) {
  return resultOf(await runDoctor(config(microsoft)), 'microsoft.org-app-permissions');
}

async function consent(): Promise<void> {
  const url = `${ms.identityUrl}/organizations/v2.0/adminconsent?client_id=${ms.providerOptions.clientId}&scope=${encodeURIComponent('https://graph.microsoft.com/.default')}&redirect_uri=${encodeURIComponent('http://127.0.0.1:9/cb')}&state=s`;
  await ms.authorize(url, { email: 'admin@contoso.com' });
}

describe('organization (application permissions) check', () => {
  it('skips without an org tenant', async () => {
    expect(await orgCheck({ orgTenant: undefined })).toMatchObject({ status: 'skip' });
  });

  it('explains that no admin consented yet, and a refused secret', async () => {
    const before = await orgCheck();
    expect(before).toMatchObject({ status: 'fail' });
    expect(before.detail).toContain('no administrator of tenant');
    expect(before.fix).toMatch(/admin consent/);
    await consent();
    const badSecret = await orgCheck({ clientSecret: 'abc8Q~not-the-secret-value-at-all-0000000000' });
    expect(badSecret).toMatchObject({ status: 'fail', detail: expect.stringContaining('client secret was refused') });
  });

  it('passes with the roles for the mode and a reachable mailbox; names a mailbox outside the access policy in plain language', async () => {
    await consent();
    const healthy = await orgCheck();
    expect(healthy).toMatchObject({ status: 'pass' });
    expect(healthy.detail).toContain('sales@contoso.com is reachable');

    ms.org.restrictAppAccess(['ben@contoso.com']);
    const outside = await orgCheck();
    expect(outside.status).toBe('fail');
    expect(outside.detail).toContain('sales@contoso.com is outside the mailboxes tenant');
    expect(outside.fix).toContain('New-ApplicationAccessPolicy');
    ms.org.restrictAppAccess(null);
  });

  it('fails when the consented roles do not cover full mode', async () => {
    ms.org.configureAppRoles(['Mail.ReadBasic.All', 'Mail.Send', 'User.Read.All']);
    ms.org.revokeAdminConsent();
    await consent();
    const short = await orgCheck();
    expect(short).toMatchObject({ status: 'fail', detail: expect.stringContaining('also needs Mail.Read.All') });
    expect(await orgCheck({ mode: 'metadata' })).toMatchObject({ status: 'pass' });
  });
});
