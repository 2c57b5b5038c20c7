// users.labels.*: list/get/create/patch/update/delete through the real Gmail client, with the
// real API's errors (404 unknown id, 409 a taken name — case-insensitively, system names too —,
// 400 on a system label) and what deleting a label does to its messages and history.
import type { gmail_v1 } from '@googleapis/gmail';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGmailEmulator, type GmailEmulator } from '../src/gmail/index.js';
import { connect, failure, GOOGLE } from './gmail-helpers.js';

let emulator: GmailEmulator;
let gmail: gmail_v1.Gmail;
let metadataOnly: gmail_v1.Gmail;
const ANA = 'ana@acme.example';

beforeAll(async () => {
  emulator = await startGmailEmulator({ quotaUnitsPerSecond: 100_000 });
  emulator.addMailbox({ email: ANA });
  ({ gmail } = await connect(emulator, ANA, [`${GOOGLE}gmail.labels`, `${GOOGLE}gmail.metadata`]));
  ({ gmail: metadataOnly } = await connect(emulator, ANA, [`${GOOGLE}gmail.metadata`]));
});
afterAll(() => emulator.close());

describe('users.labels', () => {
  it('lists the system labels of a fresh mailbox and gets one with its counts', async () => {
    const { data } = await metadataOnly.users.labels.list({ userId: 'me' });
    const ids = (data.labels ?? []).map((label) => label.id);
    expect(ids).toEqual(expect.arrayContaining(['INBOX', 'SENT', 'TRASH', 'SPAM', 'DRAFT', 'IMPORTANT', 'STARRED', 'UNREAD', 'CATEGORY_SOCIAL']));
    expect((data.labels ?? []).every((label) => label.type === 'system')).toBe(true);
    const inbox = await metadataOnly.users.labels.get({ userId: 'me', id: 'INBOX' });
    expect(inbox.data).toMatchObject({ id: 'INBOX', name: 'INBOX', type: 'system', messagesTotal: 0 });
    expect((await failure(metadataOnly.users.labels.get({ userId: 'me', id: 'Label_404' }))).status).toBe(404);
  });

  it('creates a user label, refuses a taken name with 409, renames with patch and update', async () => {
    const created = await gmail.users.labels.create({ userId: 'me', requestBody: { name: 'Clients' } });
    expect(created.data).toMatchObject({ name: 'Clients', type: 'user', messageListVisibility: 'show', labelListVisibility: 'labelShow' });
    const id = created.data.id ?? '';
    expect(id).toMatch(/^Label_\d+$/);

    for (const name of ['clients', 'INBOX']) {
      const taken = await failure(gmail.users.labels.create({ userId: 'me', requestBody: { name } }));
      expect(taken.status).toBe(409);
      expect(taken.body.error.message).toBe('Label name exists or conflicts');
    }
    expect((await failure(gmail.users.labels.create({ userId: 'me', requestBody: { name: '  ' } }))).status).toBe(400);
    expect((await failure(gmail.users.labels.create({ userId: 'me', requestBody: {} }))).status).toBe(400);

    const patched = await gmail.users.labels.patch({ userId: 'me', id, requestBody: { name: 'Key clients' } });
    expect(patched.data).toMatchObject({ id, name: 'Key clients', type: 'user' });
    const updated = await gmail.users.labels.update({ userId: 'me', id, requestBody: { id, name: 'Key accounts', labelListVisibility: 'labelHide' } });
    expect(updated.data).toMatchObject({ id, name: 'Key accounts', labelListVisibility: 'labelHide' });
    expect((await failure(gmail.users.labels.update({ userId: 'me', id, requestBody: { labelListVisibility: 'labelShow' } }))).status).toBe(400);
    // Renaming to its own name in another case is not a conflict with itself.
    expect((await gmail.users.labels.patch({ userId: 'me', id, requestBody: { name: 'KEY ACCOUNTS' } })).data.name).toBe('KEY ACCOUNTS');
    expect((await metadataOnly.users.labels.get({ userId: 'me', id })).data.name).toBe('KEY ACCOUNTS');
  });

  it('keeps system labels immutable and answers 404 for an unknown label', async () => {
    expect((await failure(gmail.users.labels.patch({ userId: 'me', id: 'INBOX', requestBody: { name: 'Mine' } }))).status).toBe(400);
    expect((await failure(gmail.users.labels.delete({ userId: 'me', id: 'SENT' }))).status).toBe(400);
    expect((await failure(gmail.users.labels.patch({ userId: 'me', id: 'Label_999', requestBody: { name: 'X' } }))).status).toBe(404);
    expect((await failure(gmail.users.labels.delete({ userId: 'me', id: 'Label_999' }))).status).toBe(404);
  });

  it('needs a scope that may edit labels: gmail.metadata may only read them', async () => {
    const refused = await failure(metadataOnly.users.labels.create({ userId: 'me', requestBody: { name: 'Nope' } }));
    expect(refused.status).toBe(403);
  });

  it('a rename writes no history; deleting a label removes it from its messages with a labelRemoved record each', async () => {
    const { data: label } = await gmail.users.labels.create({ userId: 'me', requestBody: { name: 'Project X' } });
    const id = label.id ?? '';
    const delivered = await emulator.deliver({ to: ANA, from: 'client@bigco.example', subject: 'Specs', labelIds: ['INBOX', id] });
    const start = (await metadataOnly.users.getProfile({ userId: 'me' })).data.historyId ?? '';

    await gmail.users.labels.patch({ userId: 'me', id, requestBody: { name: 'Project Y' } });
    const afterRename = await metadataOnly.users.history.list({ userId: 'me', startHistoryId: start });
    expect(afterRename.data.history).toBeUndefined();
    expect(afterRename.data.historyId).toBe(start);

    const deleted = await gmail.users.labels.delete({ userId: 'me', id });
    expect(deleted.status).toBe(204);
    const history = await metadataOnly.users.history.list({ userId: 'me', startHistoryId: start });
    expect(history.data.history?.flatMap((entry) => entry.labelsRemoved ?? [])).toEqual([
      { message: { id: delivered.id, threadId: delivered.threadId, labelIds: ['INBOX'] }, labelIds: [id] },
    ]);
    expect(emulator.messages(ANA).find((message) => message.id === delivered.id)?.labelIds).toEqual(['INBOX']);
    expect((await failure(metadataOnly.users.labels.get({ userId: 'me', id }))).status).toBe(404);
    // The name is free again.
    expect((await gmail.users.labels.create({ userId: 'me', requestBody: { name: 'Project Y' } })).data.name).toBe('Project Y');
  });
});
