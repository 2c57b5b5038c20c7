import { createHash, randomBytes } from 'node:crypto';
import type { UploadSession } from '@microsoft/microsoft-graph-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGraphEmulator, type GraphEmulator } from '../src/graph/index.js';
import { connectMailbox } from './graph-clients.js';

let emulator: GraphEmulator;

beforeAll(async () => {
  emulator = await startGraphEmulator();
});
afterAll(async () => {
  await emulator.close();
});

const MB = 1024 * 1024;

async function put(url: string, bytes: Uint8Array, range: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'PUT',
    headers: { 'content-type': 'application/octet-stream', 'content-range': range, ...headers },
    body: bytes as Uint8Array<ArrayBuffer>,
  });
}

describe('attachment upload sessions (files of 3–150 MB on a draft)', () => {
  it('takes the file in ordered ranges on a pre-authenticated URL and refuses what Graph refuses', async () => {
    const ann = await connectMailbox(emulator, 'ann');
    const bob = await connectMailbox(emulator, 'bob');
    const draft = (await ann.client.api('/me/messages').post({ subject: 'Drawing', toRecipients: [{ emailAddress: { address: bob.email } }] })) as {
      id: string;
    };
    const file = randomBytes(5 * MB);
    const tooBig = await ann.client
      .api(`/me/messages/${draft.id}/attachments/createUploadSession`)
      .post({ AttachmentItem: { attachmentType: 'file', name: 'huge.bin', size: 151 * MB } })
      .catch((error: { statusCode: number; code: string }) => error);
    expect(tooBig).toMatchObject({ statusCode: 400, code: 'ErrorAttachmentSizeLimitExceeded' });

    const session = (await ann.client
      .api(`/me/messages/${draft.id}/attachments/createUploadSession`)
      .post({ AttachmentItem: { attachmentType: 'file', name: 'drawing.dwg', size: file.length, contentType: 'application/acad' } })) as UploadSession;
    expect(session.nextExpectedRanges).toEqual(['0-']);
    const url = session.uploadUrl!;
    expect(new URL(url).pathname).toMatch(/^\/api\/v2\.0\/Users\('.+'\)\/Messages\('.+'\)\/AttachmentSessions\('.+'\)$/);

    const first = file.subarray(0, 3 * MB);
    expect((await put(url, first, `bytes 0-${3 * MB - 1}/${file.length}`, { authorization: 'Bearer x' })).status).toBe(400);
    expect((await put(url, file.subarray(0, 4 * MB + 1), `bytes 0-${4 * MB}/${file.length}`)).status).toBe(413);
    expect((await put(url, first, `bytes 1-${3 * MB}/${file.length}`)).status).toBe(416);
    expect((await put(url, first, `bytes 0-${3 * MB - 1}/${file.length + 1}`)).status).toBe(400);
    expect((await put(`${url.split('?')[0]}?authtoken=forged`, first, `bytes 0-${3 * MB - 1}/${file.length}`)).status).toBe(401);

    const middle = await put(url, first, `bytes 0-${3 * MB - 1}/${file.length}`);
    expect(middle.status).toBe(200);
    expect(((await middle.json()) as UploadSession).nextExpectedRanges).toEqual([String(3 * MB)]);
    const last = await put(url, file.subarray(3 * MB), `bytes ${3 * MB}-${file.length - 1}/${file.length}`);
    expect(last.status).toBe(201);
    expect(last.headers.get('location')).toMatch(/Attachments\('.+'\)$/);
    // The session is over: its URL takes nothing more.
    expect((await put(url, first, `bytes 0-${3 * MB - 1}/${file.length}`)).status).toBe(401);

    await ann.client.api(`/me/messages/${draft.id}/send`).post(null);
    const delivered = emulator.messages(bob.email).find((message) => message.subject === 'Drawing');
    expect(
      delivered?.attachments.map((attachment) => [attachment.name, attachment.contentType, createHash('sha256').update(attachment.content).digest('hex')]),
    ).toEqual([['drawing.dwg', 'application/acad', createHash('sha256').update(file).digest('hex')]]);
  });

  it('opens sessions on drafts only', async () => {
    const ann = await connectMailbox(emulator, 'ann');
    const received = await emulator.deliver({ from: 'someone@fabrikam.test', to: ann.email, subject: 'Hello', text: 'hi' });
    const answer = await ann.client
      .api(`/me/messages/${received.id}/attachments/createUploadSession`)
      .post({ AttachmentItem: { attachmentType: 'file', name: 'a.bin', size: 4 * MB } })
      .catch((error: { statusCode: number }) => error);
    expect(answer).toMatchObject({ statusCode: 400 });
  });
});
