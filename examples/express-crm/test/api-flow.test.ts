// The page's JSON API against the whole in-process app: demo emulators, the real provider
// adapters, threadlink's engine, the CRM resolver and the Express routes, over HTTP.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { connectDemoMailbox, nextEvent, postJson, startTestApp } from './support/app.js';

interface TimelineBody {
  record: { type: string; id: string };
  wholeThreads: boolean;
  threads: Array<{
    threadId: string;
    subject: string;
    messages: Array<{
      id: string;
      subject: string;
      direction: string;
      from: { address: string } | null;
      match: { type: string; id: string; rule: string; reason: string } | null;
    }>;
  }>;
  next: string | null;
}

async function getJson<T>(app: App, path: string): Promise<{ status: number; body: T; headers: Headers }> {
  const response = await fetch(`${app.url}${path}`);
  return { status: response.status, body: (await response.json()) as T, headers: response.headers };
}

const subjectsOf = (timeline: TimelineBody): string[] => timeline.threads.flatMap((thread) => thread.messages.map((message) => message.subject));

/** Reads Server-Sent Events frames from /api/events until `stop` says so. */
async function readEvents(
  app: App,
  until: (events: Array<{ event: string; data: string }>) => boolean,
  action: () => Promise<void>,
): Promise<Array<{ event: string; data: string }>> {
  const controller = new AbortController();
  const response = await fetch(`${app.url}/api/events`, { signal: controller.signal });
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const events: Array<{ event: string; data: string }> = [];
  let buffer = '';
  let started = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.+)$/m.exec(frame)?.[1];
        const data = /^data: (.+)$/m.exec(frame)?.[1];
        if (event && data) events.push({ event, data });
      }
      // The stream is open once the first frame arrived: now make something happen.
      if (!started) {
        started = true;
        await action();
      }
      if (until(events)) break;
    }
  } finally {
    controller.abort();
  }
  return events;
}

describe('the CRM API with a connected Gmail mailbox', () => {
  let app: App;
  let connectionId: string;

  beforeAll(async () => {
    app = await startTestApp();
    connectionId = await connectDemoMailbox(app, 'gmail');
    await app.tl.idle();
  });
  afterAll(async () => app?.close());

  it('describes the session and lists the seeded CRM records', async () => {
    const session = await getJson<{ mode: string; providers: string[]; demo: { mailboxes: Record<string, string> } }>(app, '/api/session');
    expect(session.body).toMatchObject({
      mode: 'demo',
      providers: ['gmail', 'outlook'],
      demo: { mailboxes: { gmail: 'ana@acme.example', outlook: 'ana@acme-outlook.example' } },
    });
    const { body } = await getJson<{ records: Array<{ type: string; id: string; client: { id: string } | null }> }>(app, '/api/records');
    expect(body.records.map((record) => `${record.type}:${record.id}`)).toEqual([
      'client:bigco',
      'client:northwind',
      'project:PRJ-1042',
      'project:PRJ-2077',
      'proposal:Q-2291',
      'work_order:WO-311',
    ]);
    expect(body.records.find((record) => record.id === 'PRJ-1042')?.client?.id).toBe('bigco');
  });

  it('reports the connected mailbox as live once the back-fill is done', async () => {
    const { body } = await getJson<{ connections: Array<{ id: string; provider: string; accountEmail: string; status: string; backfill: { state: string } }> }>(
      app,
      '/api/connections',
    );
    expect(body.connections).toEqual([
      expect.objectContaining({
        id: connectionId,
        provider: 'gmail',
        accountEmail: 'ana@acme.example',
        status: 'live',
        backfill: expect.objectContaining({ state: 'done' }),
        health: expect.objectContaining({ verdict: 'healthy', reason: expect.any(String) }),
      }),
    ]);
    expect(JSON.stringify(body)).not.toMatch(/sealed|token/i);
  });

  it('shows a client email on the client and on the project it names, with the reason, and not on another project', async () => {
    const matched = nextEvent(app, 'message.matched', ({ message }) => message.subject === 'Change request – PRJ-1042');
    const sent = await postJson(app, '/api/demo/send', {
      provider: 'gmail',
      from: 'client@bigco.com',
      subject: 'Change request – PRJ-1042',
      text: 'Please add a loop check.',
    });
    expect(sent.status).toBe(202);
    await matched;

    const client = await getJson<TimelineBody>(app, '/api/records/client/bigco/timeline');
    expect(client.body.wholeThreads).toBe(true);
    expect(subjectsOf(client.body)).toContain('Change request – PRJ-1042');

    const project = await getJson<TimelineBody>(app, '/api/records/project/PRJ-1042/timeline');
    expect(project.body.wholeThreads).toBe(false);
    const message = project.body.threads.flatMap((thread) => thread.messages).find((candidate) => candidate.subject === 'Change request – PRJ-1042');
    expect(message).toMatchObject({
      from: { address: 'client@bigco.com' },
      direction: 'inbound',
      match: { type: 'project', id: 'PRJ-1042', rule: 'reference' },
    });
    expect(message!.match!.reason).toMatch(/PRJ-1042/);

    const other = await getJson<TimelineBody>(app, '/api/records/project/PRJ-2077/timeline');
    expect(subjectsOf(other.body)).not.toContain('Change request – PRJ-1042');
    const northwind = await getJson<TimelineBody>(app, '/api/records/client/northwind/timeline');
    expect(subjectsOf(northwind.body)).not.toContain('Change request – PRJ-1042');
  });

  it('pages a timeline with ?after= and rejects a malformed cursor', async () => {
    for (const subject of ['PRJ-1042 page one', 'PRJ-1042 page two', 'PRJ-1042 page three']) {
      const matched = nextEvent(app, 'message.matched', ({ message }) => message.subject === subject);
      await postJson(app, '/api/demo/send', { provider: 'gmail', from: 'pm@bigco.com', subject, text: 'x' });
      await matched;
    }
    const first = await getJson<TimelineBody>(app, '/api/records/project/PRJ-1042/timeline?limit=2');
    expect(first.body.threads).toHaveLength(2);
    expect(first.body.next).toEqual(expect.any(String));
    const second = await getJson<TimelineBody>(app, `/api/records/project/PRJ-1042/timeline?limit=2&after=${encodeURIComponent(first.body.next!)}`);
    const firstIds = first.body.threads.map((thread) => thread.threadId);
    expect(second.body.threads.length).toBeGreaterThan(0);
    expect(second.body.threads.every((thread) => !firstIds.includes(thread.threadId))).toBe(true);

    const bad = await getJson<{ error: { code: string } }>(app, '/api/records/project/PRJ-1042/timeline?after=not-a-cursor');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('INVALID_INPUT');
  });

  it('streams message.matched to the page as metadata, without the body', async () => {
    const canary = `canary-${Math.random().toString(36).slice(2)}`;
    const events = await readEvents(
      app,
      (received) => received.some((event) => event.event === 'message.matched' && event.data.includes('Variation order – PRJ-1042')),
      async () => {
        await postJson(app, '/api/demo/send', {
          provider: 'gmail',
          from: 'client@bigco.com',
          subject: 'Variation order – PRJ-1042',
          text: `Body text ${canary}`,
        });
      },
    );
    const matched = events.find((event) => event.event === 'message.matched' && event.data.includes('Variation order – PRJ-1042'))!;
    const data = JSON.parse(matched.data) as { subject: string; from: string; records: Array<{ type: string; id: string; rule: string; reason: string }> };
    expect(data).toMatchObject({ subject: 'Variation order – PRJ-1042', from: 'client@bigco.com' });
    expect(data.records).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'project', id: 'PRJ-1042', rule: 'reference' }),
        expect.objectContaining({ type: 'client', id: 'bigco' }),
      ]),
    );
    expect(events.map((event) => event.data).join('\n')).not.toContain(canary);
  });

  it('fetches a body on demand, sanitised and marked not cacheable', async () => {
    const matched = nextEvent(app, 'message.matched', ({ message }) => message.subject === 'Drawings for PRJ-1042');
    await postJson(app, '/api/demo/send', {
      provider: 'gmail',
      from: 'client@bigco.com',
      subject: 'Drawings for PRJ-1042',
      html: '<p>See the <b>drawings</b>.</p><script>alert(1)</script><img src="http://127.0.0.1:9/pixel.gif" onerror="alert(2)">',
    });
    const { message } = await matched;
    const body = await getJson<{ messageId: string; html: string | null; text: string | null }>(app, `/api/messages/${message.id}/body`);
    expect(body.status).toBe(200);
    expect(body.headers.get('cache-control')).toBe('no-store');
    expect(body.body.html).toContain('<b>drawings</b>');
    expect(body.body.html).not.toMatch(/<script|onerror|alert/i);
    // The remote image stays visible as a placeholder, with nothing a browser would fetch.
    expect(body.body.html).not.toMatch(/\ssrc=["']?https?:/i);
  });

  it('replies in the same thread from the user’s mailbox', async () => {
    const project = await getJson<TimelineBody>(app, '/api/records/project/PRJ-1042/timeline');
    const original = project.body.threads.flatMap((thread) => thread.messages).find((message) => message.subject === 'Change request – PRJ-1042')!;
    const reply = await postJson(app, `/api/messages/${original.id}/reply`, { text: 'Thursday works.' });
    expect(reply.status).toBe(201);
    const { message } = (await reply.json()) as { message: { threadId: string; direction: string; subject: string } };
    expect(message).toMatchObject({ direction: 'outbound', subject: 'Re: Change request – PRJ-1042' });

    const sentRaw = app.demo!.gmail.sentRaw('ana@acme.example').at(-1)!;
    expect(sentRaw).toMatch(/^In-Reply-To: <.+>/im);
    expect(sentRaw).toContain('Thursday works.');

    await app.tl.idle();
    const thread = await getJson<{ messages: Array<{ direction: string; subject: string }> }>(app, `/api/threads/${encodeURIComponent(message.threadId)}`);
    expect(thread.body.messages.map((item) => item.direction)).toEqual(['inbound', 'outbound']);
    const after = await getJson<TimelineBody>(app, '/api/records/project/PRJ-1042/timeline');
    const sameThread = after.body.threads.find((candidate) => candidate.messages.some((item) => item.id === original.id))!;
    expect(sameThread.messages.map((item) => item.direction)).toEqual(['inbound', 'outbound']);
  });

  it('passes SEND_UNCONFIRMED on with its message, so the user looks in Sent instead of resending', async () => {
    const project = await getJson<TimelineBody>(app, '/api/records/project/PRJ-1042/timeline');
    const original = project.body.threads.flatMap((thread) => thread.messages).find((message) => message.subject === 'Change request – PRJ-1042')!;
    const sentBefore = app.demo!.gmail.sentRaw('ana@acme.example').length;
    // The connection drops before Gmail answers and its SENT history shows nothing: it cannot be settled.
    app.demo!.gmail.failNext('messages.send', { status: 'drop' });
    const reply = await postJson(app, `/api/messages/${original.id}/reply`, { text: 'Maybe Friday.' });
    expect(reply.status).toBe(502);
    const { error } = (await reply.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('SEND_UNCONFIRMED');
    expect(error.message).toContain('Check the Sent folder before sending it again');
    expect(app.demo!.gmail.sentRaw('ana@acme.example')).toHaveLength(sentBefore);
  });

  it('answers bad input with typed JSON errors', async () => {
    const badSender = await postJson(app, '/api/demo/send', { provider: 'gmail', from: 'not an address', subject: 'x', text: 'y' });
    expect(badSender.status).toBe(400);
    const badSenderBody = (await badSender.json()) as { error: { code: string; issues: Array<{ path: string }> } };
    expect(badSenderBody.error.code).toBe('INVALID_INPUT');
    expect(badSenderBody.error.issues.map((issue) => issue.path)).toContain('from');

    const badProvider = await postJson(app, '/api/connect/yahoo');
    expect(badProvider.status).toBe(400);

    const notJson = await fetch(`${app.url}/api/demo/send`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'provider=gmail',
    });
    expect(notJson.status).toBe(415);
    expect(((await notJson.json()) as { error: { code: string } }).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');

    const brokenJson = await fetch(`${app.url}/api/demo/send`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"provider":' });
    expect(brokenJson.status).toBe(400);

    const unknownRecord = await getJson<{ error: { code: string } }>(app, '/api/records/project/PRJ-9999/timeline');
    expect(unknownRecord).toMatchObject({ status: 404, body: { error: { code: 'RECORD_NOT_FOUND' } } });

    const unknownMessage = await getJson<{ error: { code: string } }>(app, '/api/messages/msg_nope/body');
    expect(unknownMessage).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });

    const emptyReply = await postJson(app, '/api/messages/msg_nope/reply', { text: '   ' });
    expect(emptyReply.status).toBe(400);

    const unknownRoute = await getJson<{ error: { code: string } }>(app, '/api/nothing-here');
    expect(unknownRoute).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
  });

  it('disconnects: stops push, revokes, deletes every row and says how many', async () => {
    const response = await postJson(app, `/api/connections/${connectionId}/disconnect`);
    expect(response.status).toBe(200);
    const result = (await response.json()) as { unsubscribed: boolean; revoked: boolean; deleted: { connections: number; messages: number; links: number } };
    expect(result).toMatchObject({ unsubscribed: true, revoked: true, deleted: { connections: 1 } });
    expect(result.deleted.messages).toBeGreaterThan(0);
    expect(result.deleted.links).toBeGreaterThan(0);
    expect(app.demo!.gmail.watchOf('ana@acme.example')).toBeNull();

    for (const path of ['/api/records/client/bigco/timeline', '/api/records/project/PRJ-1042/timeline']) {
      expect((await getJson<TimelineBody>(app, path)).body.threads).toEqual([]);
    }
    expect((await getJson<{ connections: unknown[] }>(app, '/api/connections')).body.connections).toEqual([]);
    const again = await postJson(app, `/api/connections/${connectionId}/disconnect`);
    expect(again.status).toBe(404);
  });
});

describe('the CRM API outside demo mode', () => {
  it('has no demo mailbox to send from', async () => {
    const app = await startTestApp({ mode: 'real' });
    try {
      const response = await postJson(app, '/api/demo/send', { provider: 'gmail', from: 'client@bigco.com', subject: 'x', text: 'y' });
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('NOT_DEMO');
      const connect = await postJson(app, '/api/connect/gmail');
      expect(connect.status).toBe(400);
      expect(((await connect.json()) as { error: { code: string } }).error.code).toBe('PROVIDER_NOT_CONFIGURED');
    } finally {
      await app.close();
    }
  });
});
