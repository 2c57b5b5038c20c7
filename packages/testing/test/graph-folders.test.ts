// The Graph emulator's mail folders through the real microsoft-graph-client: the root list pages
// 10 at a time, childFolders, create (409 on a taken name), rename and move keep the id, DELETE
// moves the folder into Deleted Items, and a message moved between user folders is `@removed` in
// the source's delta and listed in the target's under the same immutable id.
import type { MailFolder } from '@microsoft/microsoft-graph-types';
import type { GraphError } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGraphEmulator, type GraphEmulator } from '../src/graph/index.js';
import { connectMailbox, relativeLink } from './graph-clients.js';

interface Page<T> {
  value: T[];
  '@odata.nextLink'?: string;
  '@odata.deltaLink'?: string;
}

let emulator: GraphEmulator;

beforeAll(async () => {
  emulator = await startGraphEmulator();
});
afterAll(async () => {
  await emulator.close();
});

describe('mail folders', () => {
  it('lists the top level 10 a page, children through childFolders, with childFolderCount', async () => {
    const { email, client } = await connectMailbox(emulator, 'gus');
    const created: MailFolder[] = [];
    for (let index = 0; index < 5; index += 1) created.push((await client.api('/me/mailFolders').post({ displayName: `Project ${index}` })) as MailFolder);
    const child = (await client.api(`/me/mailFolders/${created[0]!.id}/childFolders`).post({ displayName: 'Acme' })) as MailFolder;
    expect(child.parentFolderId).toBe(created[0]!.id);

    const first = (await client.api('/me/mailFolders').get()) as Page<MailFolder>;
    expect(first.value).toHaveLength(10);
    expect(first['@odata.nextLink']).toBeDefined();
    const second = (await client.api(relativeLink(emulator, first['@odata.nextLink']!)).get()) as Page<MailFolder>;
    const names = [...first.value, ...second.value].map((folder) => folder.displayName);
    // 7 well-known folders + 5 made here; the child is not at the top level.
    expect(names).toHaveLength(12);
    expect(names).toEqual(expect.arrayContaining(['Inbox', 'Archive', 'Project 0', 'Project 4']));
    expect(names).not.toContain('Acme');
    expect([...first.value, ...second.value].find((folder) => folder.id === created[0]!.id)?.childFolderCount).toBe(1);

    const children = (await client.api(`/me/mailFolders/${created[0]!.id}/childFolders`).select('id,displayName').get()) as Page<MailFolder>;
    expect(children.value).toEqual([{ id: child.id, displayName: 'Acme' }]);
    expect(emulator.folderId(email, 'Acme')).toBe(child.id);
  });

  it('refuses a taken name, keeps the id through rename and move, and deletes into Deleted Items', async () => {
    const { email, client } = await connectMailbox(emulator, 'hal');
    const folder = (await client.api('/me/mailFolders').post({ displayName: 'Clients' })) as MailFolder;
    const taken = (await client
      .api('/me/mailFolders')
      .post({ displayName: 'clients' })
      .catch((caught: unknown) => caught)) as GraphError;
    expect(taken.statusCode).toBe(409);
    expect(taken.code).toBe('ErrorFolderExists');

    const renamed = (await client.api(`/me/mailFolders/${folder.id}`).patch({ displayName: 'Key clients' })) as MailFolder;
    expect(renamed).toMatchObject({ id: folder.id, displayName: 'Key clients' });
    const archiveId = emulator.folderId(email, 'archive');
    const moved = (await client.api(`/me/mailFolders/${folder.id}/move`).post({ destinationId: archiveId })) as MailFolder;
    expect(moved).toMatchObject({ id: folder.id, parentFolderId: archiveId });

    await client.api(`/me/mailFolders/${folder.id}`).delete();
    const after = (await client.api(`/me/mailFolders/${folder.id}`).get()) as MailFolder;
    expect(after.parentFolderId).toBe(emulator.folderId(email, 'deleteditems'));
    const wellKnown = (await client
      .api('/me/mailFolders/inbox')
      .delete()
      .catch((caught: unknown) => caught)) as GraphError;
    expect(wellKnown.statusCode).toBe(403);
  });

  it('moves a message between user folders: @removed in the source delta, listed in the target, same immutable id', async () => {
    const { email, client } = await connectMailbox(emulator, 'ida');
    const immutable = { Prefer: 'IdType="ImmutableId"' };
    const source = emulator.createFolder(email, 'Source');
    const target = emulator.createFolder(email, 'Target', source);
    const delivered = await emulator.deliver({ from: 'client@fabrikam.test', to: email, subject: 'Filed' });
    emulator.moveMessage(email, delivered.id, source);

    const round = async (link: string) => {
      const page = (await client.api(relativeLink(emulator, link)).headers(immutable).get()) as Page<Record<string, unknown>>;
      return page;
    };
    const sourceStart = await round(`/me/mailFolders/${source}/messages/delta?$select=subject,parentFolderId`);
    const targetStart = await round(`/me/mailFolders/${target}/messages/delta?$select=subject,parentFolderId`);
    const id = String(sourceStart.value[0]?.id);
    expect(targetStart.value).toEqual([]);

    const moved = (await client.api(`/me/messages/${id}/move`).headers(immutable).post({ destinationId: target })) as Record<string, unknown>;
    expect(moved).toMatchObject({ id, parentFolderId: target });
    const sourceAfter = await round(sourceStart['@odata.deltaLink']!);
    const targetAfter = await round(targetStart['@odata.deltaLink']!);
    expect(sourceAfter.value).toEqual([{ '@odata.type': '#microsoft.graph.message', id, '@removed': { reason: 'deleted' } }]);
    expect(targetAfter.value).toMatchObject([{ id, subject: 'Filed', parentFolderId: target }]);
    const current = (await client.api(`/me/messages/${id}`).headers(immutable).select('parentFolderId').get()) as Record<string, unknown>;
    expect(current.parentFolderId).toBe(target);
  });
});
