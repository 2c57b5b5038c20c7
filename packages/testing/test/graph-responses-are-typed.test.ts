// The Graph emulator's answers are built with the generated Graph types (issue 18): a field the
// real resource lacks fails the type-check (the @ts-expect-error lines below are proof — were the
// types loose, `pnpm typecheck` would flag the unused directive), and what the real client gets
// back has the real shapes: `$select` of an unknown property refused as Graph refuses it, errors
// as {error:{code,message,innerError}}, users/me, messages, attachments, delta pages with
// `@removed`, subscriptions, folders.
import type { GraphError } from '@microsoft/microsoft-graph-client';
import type { FileAttachment, Message, Subscription, User } from '@microsoft/microsoft-graph-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGraphEmulator, type GraphEmulator } from '../src/graph/index.js';
import type { GraphErrorBody, GraphJson } from '../src/graph/odata.js';
import { connectMailbox, relativeLink, startWebhookReceiver } from './graph-clients.js';

// Compile-time: invented fields are refused on the types the emulator builds its answers with.
// @ts-expect-error `snippet` is Gmail's; a Graph message has bodyPreview
const _message: GraphJson<Message> = { id: 'x', snippet: 'hello' };
// @ts-expect-error Graph's error has no `status` field at the top of `error`
const _error: GraphErrorBody = { error: { code: 'ErrorItemNotFound', message: 'gone', status: 404 } };
void _message;
void _error;

let emulator: GraphEmulator;
beforeAll(async () => {
  emulator = await startGraphEmulator();
});
afterAll(async () => emulator.close());

async function refusal(promise: Promise<unknown>): Promise<GraphError> {
  return (await promise.then(
    () => {
      throw new Error('expected a Graph error');
    },
    (caught: unknown) => caught,
  )) as GraphError;
}

describe('Graph responses have the real resources’ shapes', () => {
  it('users/me: the default user properties, $select narrows them, an unknown property is a 400', async () => {
    const { email, client } = await connectMailbox(emulator, 'tia');
    const me = (await client.api('/me').get()) as User;
    expect(me.mail).toBe(email);
    expect(me.userPrincipalName).toBe(email);
    const narrowed = (await client.api('/me').select(['mail', 'displayName']).get()) as Record<string, unknown>;
    expect(
      Object.keys(narrowed)
        .filter((key) => !key.startsWith('@'))
        .sort(),
    ).toEqual(['displayName', 'id', 'mail']);
    const refused = await refusal(client.api('/me').select(['mail', 'favouriteColour']).get());
    expect(refused.statusCode).toBe(400);
    expect(refused.message).toContain("'favouriteColour'");
  });

  it('messages, attachments and folders: typed fields, an unknown $select property refused, errors with innerError', async () => {
    const { email, client } = await connectMailbox(emulator, 'uma');
    const delivered = await emulator.deliver({
      from: 'Carla <client@acme.com>',
      to: email,
      subject: 'Plans',
      text: 'see attached',
      attachments: [{ filename: 'plan.pdf', content: 'PDF', contentType: 'application/pdf' }],
    });
    const message = (await client.api(`/me/messages/${delivered.immutableId}`).header('Prefer', 'IdType="ImmutableId"').get()) as Message;
    expect(message.subject).toBe('Plans');
    expect(message.from?.emailAddress?.address).toBe('client@acme.com');
    expect(message.hasAttachments).toBe(true);
    const attachments = (await client.api(`/me/messages/${delivered.immutableId}/attachments`).get()) as {
      value: Array<FileAttachment & { '@odata.type': string }>;
    };
    expect(attachments.value.map((attachment) => [attachment['@odata.type'], attachment.name, attachment.contentType])).toEqual([
      ['#microsoft.graph.fileAttachment', 'plan.pdf', 'application/pdf'],
    ]);
    const badAttachmentField = await refusal(client.api(`/me/messages/${delivered.immutableId}/attachments`).select(['name', 'bytes']).get());
    expect([badAttachmentField.statusCode, badAttachmentField.message]).toEqual([
      400,
      "Could not find a property named 'bytes' on type 'microsoft.graph.attachment'.",
    ]);
    const badFolderField = await refusal(client.api('/me/mailFolders').select(['displayName', 'colour']).get());
    expect([badFolderField.statusCode, badFolderField.message]).toEqual([
      400,
      "Could not find a property named 'colour' on type 'microsoft.graph.mailFolder'.",
    ]);
    const refused = await refusal(client.api(`/me/messages/${delivered.immutableId}`).select(['subject', 'snippet']).get());
    expect([refused.statusCode, refused.code]).toEqual([400, 'RequestBroker--ParseUri']);
    expect(refused.message).toBe("Could not find a property named 'snippet' on type 'microsoft.graph.message'.");
    const missing = await refusal(client.api('/me/messages/AAMkAGnothing').get());
    expect([missing.statusCode, missing.code]).toEqual([404, 'ErrorItemNotFound']);
    expect(missing.requestId).toEqual(expect.any(String));
    expect(missing.date).toBeInstanceOf(Date);
  });

  it('delta pages: items, @removed for what left the folder, and a deltaLink', async () => {
    const { email, client } = await connectMailbox(emulator, 'vic');
    const delivered = await emulator.deliver({ from: 'client@acme.com', to: email, subject: 'Moving', text: 'x' });
    const start = (await client
      .api('/me/mailFolders/inbox/messages/delta')
      .select(['subject', 'parentFolderId'])
      .header('Prefer', 'IdType="ImmutableId"')
      .get()) as {
      value: Message[];
      '@odata.deltaLink': string;
    };
    expect(start.value.map((item) => item.subject)).toEqual(['Moving']);
    emulator.moveMessage(email, delivered.immutableId, 'archive');
    const next = (await client.api(relativeLink(emulator, start['@odata.deltaLink'])).header('Prefer', 'IdType="ImmutableId"').get()) as {
      value: Array<Message & { '@removed'?: { reason: string } }>;
      '@odata.deltaLink'?: string;
    };
    expect(next.value).toEqual([expect.objectContaining({ id: delivered.immutableId, '@removed': { reason: 'deleted' } })]);
    expect(next['@odata.deltaLink']).toBeDefined();
  });

  it('subscriptions: the created resource as Graph returns it', async () => {
    const { client } = await connectMailbox(emulator, 'wes');
    const receiver = await startWebhookReceiver();
    const url = receiver.url;
    const created = (await client.api('/subscriptions').post({
      changeType: 'created,updated,deleted',
      notificationUrl: url,
      resource: "me/mailFolders('inbox')/messages",
      expirationDateTime: new Date(Date.now() + 60 * 60_000).toISOString(),
      clientState: 'secret',
    })) as Subscription;
    expect(created).toMatchObject({
      changeType: 'created,updated,deleted',
      resource: "me/mailFolders('inbox')/messages",
      clientState: 'secret',
      notificationUrl: url,
    });
    expect(Date.parse(created.expirationDateTime!)).toBeGreaterThan(Date.now());
    await client.api(`/subscriptions/${created.id}`).delete();
    await receiver.close();
  });
});
