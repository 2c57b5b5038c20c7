// The organization routes refuse what a user would get wrong, in words, and store nothing then:
// a key that is not JSON, a service account the Workspace admin never authorised, an unknown org.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { orgMailboxes, postJson, startTestApp } from './support/app.js';

describe('the organization API', () => {
  let app: App;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app?.close());

  const connect = (serviceAccountKey: string) =>
    postJson(app, '/api/orgs/gmail', { domain: 'acme.example', adminEmail: 'it@acme.example', serviceAccountKey, selection: { all: true } });

  it('refuses a key that is not JSON with INVALID_KEY_FILE', async () => {
    const response = await connect('not a key file');
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'INVALID_KEY_FILE' } });
  });

  it('refuses a service account the admin never authorised for delegation, and stores no org', async () => {
    const unauthorised = await app.demo!.gmail.workspace.createServiceAccount('not-delegated');
    const response = await connect(JSON.stringify(unauthorised));
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(await response.json()).toMatchObject({ error: { code: 'OAUTH_FAILED' } });
    expect(await (await fetch(`${app.url}/api/orgs`)).json()).toEqual({ organizations: [] });
    expect(await orgMailboxes(app)).toEqual([]);
  });

  it('answers an unknown organization with ORGANIZATION_NOT_FOUND', async () => {
    const response = await postJson(app, '/api/orgs/org_nope/sync');
    expect(response.status).toBe(404);
    expect(await response.json()).toMatchObject({ error: { code: 'ORGANIZATION_NOT_FOUND' } });
  });
});
