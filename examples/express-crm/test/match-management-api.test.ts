// The mail panel's match-management and health routes over HTTP: explain lists every link with its
// reason (an unlinked one too, so the page can offer Undo), unlink takes the message off the record
// for good, rematch does not bring it back, reset does, a manual link puts it on another record,
// and the health report carries the verdict and back-fill figures the drawer shows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.js';
import { connectDemoMailbox, nextEvent, postJson, startTestApp } from './support/app.js';

interface LinkBody {
  type: string;
  id: string;
  label: string;
  rule: string;
  ruleSentence: string;
  reason: string;
  confidence: number;
  manual: boolean;
  suppressed: boolean;
}

async function getJson<T>(app: App, path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`${app.url}${path}`);
  return { status: response.status, body: (await response.json()) as T };
}

const SUBJECT = 'Valve torque figures – PRJ-1042';

describe('match management and mailbox health through the example API', () => {
  let app: App;
  let connectionId: string;
  let messageId: string;

  const projectSubjects = async (type = 'project', id = 'PRJ-1042'): Promise<string[]> =>
    (await getJson<{ threads: Array<{ subject: string }> }>(app, `/api/records/${type}/${id}/timeline`)).body.threads.map((thread) => thread.subject);

  beforeAll(async () => {
    app = await startTestApp();
    connectionId = await connectDemoMailbox(app, 'gmail');
    await app.tl.idle();
    const matched = nextEvent(app, 'message.matched', ({ message }) => message.subject === SUBJECT);
    await postJson(app, '/api/demo/send', { provider: 'gmail', from: 'client@bigco.com', subject: SUBJECT, text: 'Figures attached.' });
    messageId = (await matched).message.id;
    await app.tl.idle();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('explains a message with every record it is linked to, each with its rule and reason in words', async () => {
    const { status, body } = await getJson<{ links: LinkBody[] }>(app, `/api/messages/${encodeURIComponent(messageId)}/links`);
    expect(status).toBe(200);
    const project = body.links.find((link) => link.type === 'project');
    expect(project).toMatchObject({
      id: 'PRJ-1042',
      label: 'PRJ-1042',
      rule: 'reference',
      ruleSentence: 'it names the reference number',
      manual: false,
      suppressed: false,
    });
    expect(project!.reason).toContain('PRJ-1042');
    expect(body.links.find((link) => link.type === 'client')).toMatchObject({ id: 'bigco', rule: 'participant.address', suppressed: false });
  });

  it('unlinks for good: the message leaves the record, a rematch leaves it out, reset brings it back', async () => {
    expect(await projectSubjects()).toContain(SUBJECT);
    const unlinked = await postJson(app, `/api/messages/${encodeURIComponent(messageId)}/unlink`, { type: 'project', id: 'PRJ-1042' });
    expect(unlinked.status).toBe(200);
    expect(await unlinked.json()).toMatchObject({ suppressed: true, record: { type: 'project', id: 'PRJ-1042' } });
    expect(await projectSubjects()).not.toContain(SUBJECT);
    expect(await projectSubjects('client', 'bigco')).toContain(SUBJECT);
    const explained = await getJson<{ links: LinkBody[] }>(app, `/api/messages/${encodeURIComponent(messageId)}/links`);
    expect(explained.body.links.find((link) => link.type === 'project')).toMatchObject({ suppressed: true, manual: true });

    const rematched = await postJson(app, '/api/records/project/PRJ-1042/rematch');
    expect(rematched.status).toBe(200);
    expect(await rematched.json()).toMatchObject({ record: { type: 'project', id: 'PRJ-1042' }, linked: expect.any(Number) });
    expect(await projectSubjects()).not.toContain(SUBJECT);

    const reset = await postJson(app, `/api/messages/${encodeURIComponent(messageId)}/reset`, { type: 'project', id: 'PRJ-1042' });
    expect(await reset.json()).toMatchObject({ reset: true });
    await postJson(app, '/api/records/project/PRJ-1042/rematch');
    expect(await projectSubjects()).toContain(SUBJECT);
  });

  it('links a message to another record by hand', async () => {
    expect(await projectSubjects('work_order', 'WO-311')).not.toContain(SUBJECT);
    const linked = await postJson(app, `/api/messages/${encodeURIComponent(messageId)}/link`, { type: 'work_order', id: 'WO-311' });
    expect(linked.status).toBe(201);
    expect(await linked.json()).toMatchObject({ rule: 'manual', record: { type: 'work_order', id: 'WO-311', label: 'WO-311' } });
    expect(await projectSubjects('work_order', 'WO-311')).toContain(SUBJECT);
  });

  it('refuses records the CRM does not have and malformed input, with typed errors', async () => {
    const unknown = await postJson(app, `/api/messages/${encodeURIComponent(messageId)}/unlink`, { type: 'project', id: 'PRJ-0000' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'RECORD_NOT_FOUND' } });
    const malformed = await postJson(app, `/api/messages/${encodeURIComponent(messageId)}/link`, { type: 'project' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { code: 'INVALID_INPUT' } });
    const noRecord = await postJson(app, '/api/records/project/PRJ-0000/rematch');
    expect(noRecord.status).toBe(404);
    const noMessage = await getJson<{ error: { code: string } }>(app, '/api/messages/no-such-message/links');
    expect(noMessage.status).toBe(404);
  });

  it("reports a mailbox's health for the drawer and asks for a pull on demand", async () => {
    const { status, body } = await getJson<Record<string, unknown>>(app, `/api/connections/${encodeURIComponent(connectionId)}/health`);
    expect(status).toBe(200);
    expect(body).toMatchObject({
      connectionId,
      provider: 'gmail',
      accountEmail: 'ana@acme.example',
      status: 'live',
      verdict: 'healthy',
      syncLagMs: 0,
      consecutiveErrors: 0,
    });
    expect(body.backfill).toMatchObject({ state: 'done', etaMs: 0 });
    expect(typeof body.lastSyncAt).toBe('number');
    const sync = await postJson(app, `/api/connections/${encodeURIComponent(connectionId)}/sync`);
    expect(sync.status).toBe(202);
    const missing = await getJson<{ error: { code: string } }>(app, '/api/connections/no-such-connection/health');
    expect(missing.status).toBe(404);
  });
});
