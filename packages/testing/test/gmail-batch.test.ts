// POST /batch/gmail/v1: a hand-built multipart/mixed request (the Node client has
// no batch support), per-part status, per-part quota, the 100-part limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGmailEmulator, type DeliveredMessages, type GmailEmulator } from '../src/gmail/index.js';
import { connect, GOOGLE } from './gmail-helpers.js';

let emulator: GmailEmulator;
let accessToken: string;
const delivered: DeliveredMessages[] = [];
const ANA = 'ana@acme.example';

beforeAll(async () => {
  emulator = await startGmailEmulator({ quotaUnitsPerSecond: 100_000 });
  emulator.addMailbox({ email: ANA });
  for (let index = 0; index < 3; index++) {
    delivered.push(await emulator.deliver({ from: 'client@bigco.example', to: ANA, subject: `Batch ${index}`, text: `body ${index}` }));
  }
  const { auth } = await connect(emulator, ANA, [`${GOOGLE}gmail.metadata`]);
  accessToken = auth.credentials.access_token ?? '';
});
afterAll(() => emulator.close());

function batchBody(boundary: string, paths: string[]): string {
  const parts = paths.map((path, index) => `--${boundary}\r\nContent-Type: application/http\r\nContent-ID: <item${index}>\r\n\r\nGET ${path}\r\n\r\n`);
  return `${parts.join('')}--${boundary}--\r\n`;
}

interface BatchPart {
  contentId: string | undefined;
  status: number;
  body: unknown;
}

async function sendBatch(paths: string[]): Promise<{ status: number; parts: BatchPart[]; raw: Response }> {
  const boundary = 'batch_threadlink';
  const response = await fetch(`${emulator.url}/batch/gmail/v1`, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': `multipart/mixed; boundary=${boundary}` },
    body: batchBody(boundary, paths),
  });
  const text = await response.text();
  const responseBoundary = /boundary=([^;]+)/.exec(response.headers.get('content-type') ?? '')?.[1] ?? '';
  const parts = text
    .split(`--${responseBoundary}`)
    .slice(1, -1)
    .map((section): BatchPart => {
      const contentId = /Content-ID: <([^>]+)>/.exec(section)?.[1];
      const status = Number(/HTTP\/1\.1 (\d{3})/.exec(section)?.[1]);
      const json = section.slice(section.indexOf('{'), section.lastIndexOf('}') + 1);
      return { contentId, status, body: json ? JSON.parse(json) : undefined };
    });
  return { status: response.status, parts, raw: response };
}

describe('batch endpoint', () => {
  it('answers each inner request in its own application/http part; failures stay per part', async () => {
    const fields = 'id,threadId,labelIds,internalDate,payload/headers';
    const paths = [
      ...delivered.map((message) => `/gmail/v1/users/me/messages/${message.id}?format=metadata&metadataHeaders=Subject&fields=${encodeURIComponent(fields)}`),
      '/gmail/v1/users/me/messages/ffffffffffffffff?format=metadata',
    ];
    const before = emulator.log.units({ mailbox: ANA, operation: 'messages.get' });
    const { status, parts, raw } = await sendBatch(paths);
    expect(status).toBe(200);
    expect(raw.headers.get('content-type')).toMatch(/^multipart\/mixed; boundary=batch_/);
    expect(parts.map((part) => part.contentId)).toEqual(['response-item0', 'response-item1', 'response-item2', 'response-item3']);
    expect(parts.map((part) => part.status)).toEqual([200, 200, 200, 404]);
    expect(parts[1]?.body).toEqual({
      id: delivered[1]?.id,
      threadId: delivered[1]?.threadId,
      labelIds: ['UNREAD', 'CATEGORY_PERSONAL', 'INBOX'],
      internalDate: expect.any(String),
      payload: { headers: [{ name: 'Subject', value: 'Batch 1' }] },
    });
    expect(parts[3]?.body).toMatchObject({ error: { code: 404, status: 'NOT_FOUND' } });
    // Each part is charged on its own (messages.get = 5 units).
    expect(emulator.log.units({ mailbox: ANA, operation: 'messages.get' }) - before).toBe(20);
  });

  it('lets a part fail with 429 inside the 200 when the user quota runs out', async () => {
    const small = await startGmailEmulator({ quotaUnitsPerSecond: 12 });
    try {
      small.addMailbox({ email: ANA });
      const message = await small.deliver({ from: 'client@bigco.example', to: ANA, subject: 'Quota', text: 'x' });
      const token = (await small.issueTokens({ email: ANA, scopes: [`${GOOGLE}gmail.metadata`] })).access_token;
      const boundary = 'b';
      const response = await fetch(`${small.url}/batch/gmail/v1`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': `multipart/mixed; boundary=${boundary}` },
        body: batchBody(
          boundary,
          [1, 2, 3].map(() => `/gmail/v1/users/me/messages/${message.id}?format=minimal`),
        ),
      });
      expect(response.status).toBe(200);
      const text = await response.text();
      expect([...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((match) => Number(match[1]))).toEqual([200, 200, 429]);
      expect(text).toContain('"reason":"rateLimitExceeded"');
      expect(text).toContain('"status":"RESOURCE_EXHAUSTED"');
    } finally {
      await small.close();
    }
  });

  it('uses a part-level Authorization header over the outer one', async () => {
    const boundary = 'override';
    const body = `--${boundary}\r\nContent-Type: application/http\r\n\r\nGET /gmail/v1/users/me/profile\r\nAuthorization: Bearer not-a-token\r\n\r\n\r\n--${boundary}--`;
    const response = await fetch(`${emulator.url}/batch/gmail/v1`, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': `multipart/mixed; boundary=${boundary}` },
      body,
    });
    expect(await response.text()).toContain('HTTP/1.1 401 Unauthorized');
  });

  it('refuses more than 100 calls in one batch', async () => {
    const { status } = await sendBatch(Array.from({ length: 101 }, () => '/gmail/v1/users/me/profile'));
    expect(status).toBe(400);
  });
});
