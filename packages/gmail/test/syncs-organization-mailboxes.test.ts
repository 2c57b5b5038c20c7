// Every Gmail operation on an organization mailbox (session.grant set) authenticates as that
// mailbox through the JWT-bearer grant: one watch per mailbox onto the host's one topic, history,
// body, attachment and replies from the mailbox's own address; stop-only offboarding; a withdrawn
// delegation surfaces as AUTH_REVOKED on the next call.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { ThreadlinkError } from '@threadlink/core';
import type { ProviderTokens } from '@threadlink/core/provider';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, ANA, CLIENT, orgScene, SALES, type OrgScene } from './org-support.js';
import { replyTo } from './support.js';

const CANARY = `CANARY${randomBytes(8).toString('hex')}`;

interface PushReceiver {
  url: string;
  /** emailAddress of every push received. */
  mailboxes: string[];
  close(): Promise<void>;
}

async function pushReceiver(): Promise<PushReceiver> {
  const mailboxes: string[] = [];
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const envelope = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { message: { data: string } };
      mailboxes.push((JSON.parse(Buffer.from(envelope.message.data, 'base64').toString('utf8')) as { emailAddress: string }).emailAddress);
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/webhooks/gmail`,
    mailboxes,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function opened(scene: OrgScene, mailbox: string): Promise<ProviderTokens> {
  const result = await scene.org.openMailbox(scene.grant(ADMIN), {
    id: mailbox,
    email: mailbox,
    displayName: null,
    kind: mailbox === SALES ? 'shared' : 'user',
  });
  if (!result.ok) throw new Error(`${mailbox} did not open: ${result.message}`);
  return result.tokens;
}

describe('organization mailboxes act through domain-wide delegation', () => {
  let scene: OrgScene | undefined;
  let receiver: PushReceiver | undefined;
  afterEach(async () => {
    await scene?.close();
    await receiver?.close();
    scene = undefined;
    receiver = undefined;
  });

  it('watches each mailbox onto the one topic; mail into one is pushed for it and pulled from it only', async () => {
    scene = await orgScene();
    receiver = await pushReceiver();
    const { google, provider } = scene;
    google.setPushEndpoint({ endpoint: receiver.url });
    const ana = scene.session(ANA, await opened(scene, ANA));
    const sales = scene.session(SALES, await opened(scene, SALES));
    const anaCursor = (await provider.subscribe(ana)).cursor;
    const salesCursor = (await provider.subscribe(sales)).cursor;
    expect(google.watchOf(ANA)?.topicName).toBe(google.providerOptions.pubsubTopic);
    expect(google.watchOf(SALES)?.topicName).toBe(google.providerOptions.pubsubTopic);
    await google.flushNotifications();
    receiver.mailboxes.length = 0;

    const delivered = await google.deliver({ to: SALES, from: `Client <${CLIENT}>`, subject: 'Quote for PRJ-1042', text: 'Numbers inside.' });
    await google.flushNotifications();

    expect(receiver.mailboxes).toEqual([SALES]);
    const pulled = await provider.pullChanges(sales, salesCursor);
    expect(pulled.changes).toMatchObject([{ type: 'upsert', message: { providerMessageId: delivered.id, subject: 'Quote for PRJ-1042' } }]);
    expect((await provider.pullChanges(ana, anaCursor)).changes).toEqual([]);
    // Ana's and Sales' calls were made with their own delegated tokens (the emulator logs the token's mailbox).
    expect(google.log.entries.filter((entry) => entry.operation === 'history.list').map((entry) => entry.mailbox)).toEqual([SALES, ANA]);
  });

  it('fetches the body and an attachment and replies from the shared address, in the thread', async () => {
    scene = await orgScene();
    const { google, provider } = scene;
    const sales = scene.session(SALES, await opened(scene, SALES));
    const cursor = (await provider.subscribe(sales)).cursor;
    const original = await google.deliver({
      to: SALES,
      from: `Client <${CLIENT}>`,
      subject: 'Order 12',
      text: `Ship the attached list? ${CANARY}`,
      attachments: [{ filename: 'list.csv', content: `sku,qty\n1,2\n${CANARY}\n`, contentType: 'text/csv' }],
    });
    const [change] = (await provider.pullChanges(sales, cursor)).changes;
    if (change?.type !== 'upsert') throw new Error('the order was not pulled');

    const body = await provider.fetchBody(sales, original.id);
    expect(body.text).toContain(`Ship the attached list? ${CANARY}`);
    const attachment = change.message.attachments[0];
    const content = await provider.fetchAttachment!(sales, original.id, attachment!.id!, { maxBytes: 1_000_000 });
    expect(content.filename).toBe('list.csv');
    expect(await new Response(content.stream).text()).toBe(`sku,qty\n1,2\n${CANARY}\n`);

    const sent = await provider.send(
      sales,
      replyTo(original, { subject: 'Order 12', from: { address: CLIENT, name: 'Client' }, to: SALES, text: 'Shipping today.' }),
    );
    expect(sent.providerThreadId).toBe(original.threadId);
    const [received] = google.messages(CLIENT).filter((message) => message.subject === 'Re: Order 12');
    expect(received?.headers.find((header) => header.name.toLowerCase() === 'from')?.value).toContain(SALES);
    // Privacy: the content reached only the callers; the pulled metadata, the logs and the persisted tokens never carry it, nor the key.
    const kept = JSON.stringify([change.message, scene.logger.lines, sales.persisted]);
    expect(kept).not.toContain(CANARY);
    expect(kept).not.toContain('PRIVATE KEY');
  });

  it('persists the token it signs for when the last one expired, and offboards by users.stop only', async () => {
    scene = await orgScene();
    const { google, provider } = scene;
    const ana = scene.session(ANA, await opened(scene, ANA));
    const cursor = (await provider.subscribe(ana)).cursor;
    google.advanceClock(3_600_000);
    google.log.clear();
    await provider.pullChanges(ana, cursor);
    expect(google.log.entries.map((entry) => `${entry.operation} ${entry.status}`)).toEqual(['history.list 401', 'oauth.token 200', 'history.list 200']);
    expect(ana.persisted).toHaveLength(1);
    expect(ana.persisted[0]?.refreshToken).toBeUndefined();

    google.log.clear();
    await provider.revoke(ana);
    expect(google.watchOf(ANA)).toBeNull();
    expect(google.log.entries.map((entry) => entry.operation)).toEqual(['stop']);
  });

  it('turns a withdrawn delegation into AUTH_REVOKED on the next call, without retrying', async () => {
    scene = await orgScene();
    const { google, provider, key } = scene;
    const ana = scene.session(ANA, await opened(scene, ANA));
    const cursor = (await provider.subscribe(ana)).cursor;
    google.workspace.revokeDelegation(key.client_id);
    google.advanceClock(3_600_000);
    google.log.clear();

    const error = (await provider.pullChanges(ana, cursor).catch((caught: unknown) => caught)) as ThreadlinkError;
    expect(error.code).toBe('AUTH_REVOKED');
    expect(error.retryable).toBe(false);
    expect(google.log.entries.map((entry) => `${entry.operation} ${entry.status}`)).toEqual(['history.list 401', 'oauth.token 401']);
  });
});
