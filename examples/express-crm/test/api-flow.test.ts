// The page's JSON API against the whole in-process app: demo emulators, real providers,
// threadlink's engine, the CRM resolver, Express routes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { connectDemoMailbox, nextEvent, postJson, startTestApp } from './support/app.js';

describe('the CRM API with a connected Gmail mailbox', () => {
  let app: App;
  let connectionId: string;

  beforeAll(async () => {
    app = await startTestApp();
    connectionId = await connectDemoMailbox(app, 'gmail');
    await app.tl.idle();
  });
  afterAll(async () => app?.close());

  it('lists the seeded CRM records', async () => {
    const { records } = (await (await fetch(`${app.url}/api/records`)).json()) as { records: Array<{ type: string; id: string }> };
    expect(records.map((record) => `${record.type}:${record.id}`)).toEqual(
      expect.arrayContaining(['client:bigco', 'client:northwind', 'project:PRJ-1042', 'project:PRJ-2077', 'proposal:Q-2291', 'work_order:WO-311']),
    );
  });

  it('shows a client email on the client and on the project it names, with the reason', async () => {
    const matched = nextEvent(app, 'message.matched', ({ message }) => message.subject === 'Change request – PRJ-1042');
    const sent = await postJson(app, '/api/demo/send', { provider: 'gmail', from: 'client@bigco.com', subject: 'Change request – PRJ-1042', text: 'Please add a loop check.' });
    expect(sent.status).toBe(202);
    await matched;

    const client = await (await fetch(`${app.url}/api/records/client/bigco/timeline`)).json();
    expect(client.threads.map((thread: { subject: string }) => thread.subject)).toContain('Change request – PRJ-1042');

    const project = await (await fetch(`${app.url}/api/records/project/PRJ-1042/timeline`)).json();
    const message = project.threads.flatMap((thread: { messages: unknown[] }) => thread.messages)[0];
    expect(message).toMatchObject({ subject: 'Change request – PRJ-1042', from: { address: 'client@bigco.com' }, match: { type: 'project', id: 'PRJ-1042', rule: 'reference' } });
    expect(message.match.reason).toMatch(/PRJ-1042/);
    expect(connectionId).toBeTruthy();
  });
});
