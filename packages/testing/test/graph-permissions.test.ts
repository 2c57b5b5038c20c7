import { GraphError, ResponseType } from '@microsoft/microsoft-graph-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGraphEmulator, type GraphEmulator } from '../src/graph/index.js';
import { graphClient, msalApp, signIn } from './graph-clients.js';

let emulator: GraphEmulator;

beforeAll(async () => {
  emulator = await startGraphEmulator();
});
afterAll(async () => {
  await emulator.close();
});

describe('delegated permissions', () => {
  it('gives a Mail.ReadBasic token metadata only: no body, no preview, no attachments, no sending', async () => {
    const email = 'metadata-only@contoso.test';
    emulator.addMailbox({ email });
    const { result } = await signIn(emulator, email, msalApp(emulator), ['https://graph.microsoft.com/Mail.ReadBasic', 'offline_access']);
    const client = graphClient(emulator, () => result.accessToken, 0);
    const delivered = await emulator.deliver({
      from: 'x@fabrikam.test',
      to: email,
      subject: 'Contract',
      text: 'canary body',
      attachments: [{ filename: 'contract.pdf', content: 'pdf' }],
    });

    const message = (await client.api(`/me/messages/${delivered.id}`).get()) as Record<string, unknown>;
    expect(message).toMatchObject({ subject: 'Contract', hasAttachments: true });
    expect(message).not.toHaveProperty('body');
    expect(message).not.toHaveProperty('bodyPreview');
    const selected = (await client.api(`/me/messages/${delivered.id}`).select(['subject', 'body', 'bodyPreview']).get()) as Record<string, unknown>;
    expect(Object.keys(selected).sort()).toEqual(['@odata.context', '@odata.etag', 'id', 'subject']);

    const denied = [
      () => client.api(`/me/messages/${delivered.id}/attachments`).get(),
      () => client.api('/me/sendMail').post({ message: { subject: 'x', toRecipients: [{ emailAddress: { address: 'y@fabrikam.test' } }] } }),
      () => client.api(`/me/messages/${delivered.id}`).patch({ isRead: true }),
    ];
    for (const call of denied) {
      const error = (await call().catch((caught: unknown) => caught)) as GraphError;
      expect(error).toBeInstanceOf(GraphError);
      expect(error.statusCode).toBe(403);
      expect(error.code).toBe('ErrorAccessDenied');
    }
    const mime = (await client
      .api(`/me/messages/${delivered.id}/$value`)
      .responseType(ResponseType.TEXT)
      .get()
      .catch((caught: unknown) => caught)) as GraphError;
    expect(mime.statusCode).toBe(403);
    // /me needs User.Read, which this consent did not include.
    const me = (await client
      .api('/me')
      .get()
      .catch((caught: unknown) => caught)) as GraphError;
    expect(me.statusCode).toBe(403);
    expect(me.code).toBe('Authorization_RequestDenied');
  });
});
