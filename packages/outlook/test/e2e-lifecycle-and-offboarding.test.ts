// Through the facade: lifecycle events, back-fill progress, the body canary, reply threading,
// revocation and offboarding.
import { afterEach, describe, expect, it } from 'vitest';
import { startFacade, type Facade } from './harness.js';

const CANARY = 'CANARY-0d9c-body-must-never-be-stored';

describe('end to end: lifecycle, back-fill, body, reply, revocation, offboarding', () => {
  let facade: Facade;
  afterEach(async () => facade?.close());

  it('renews on reauthorizationRequired, resyncs on missed, and recreates on subscriptionRemoved', async () => {
    facade = await startFacade();
    const connection = await facade.connect('ana@contoso.com');
    const [first, second] = facade.ms.subscriptions();
    const expiryBefore = Date.parse(first!.expirationDateTime);

    facade.ms.advanceTime(60_000);
    await facade.ms.sendLifecycle(first!.id, 'reauthorizationRequired');
    await facade.settle();
    const renewed = facade.ms.subscriptions().find((entry) => entry.id === first!.id)!;
    expect(Date.parse(renewed.expirationDateTime)).toBeGreaterThan(expiryBefore);
    expect(facade.ms.log.entries.some((entry) => entry.operation === 'subscriptions.update' && entry.status === 200)).toBe(true);

    await facade.ms.sendLifecycle(second!.id, 'missed');
    await facade.settle();
    expect((await facade.tl.connections.get(connection.id, { tenantId: 't1', as: 'admin' })).health.lastFullSyncAt).not.toBeNull();

    const cursorBefore = (await facade.tl.connections.get(connection.id, { tenantId: 't1', as: 'admin' })).cursor;
    await facade.ms.sendLifecycle(first!.id, 'subscriptionRemoved');
    // Mail arriving while the subscription is gone is not lost: the cursor covers it.
    await facade.ms.deliver({ from: 'client@acme.com', to: 'ana@contoso.com', subject: 'while removed', text: 'x' });
    await facade.settle();
    const live = facade.ms.subscriptions();
    expect(live).toHaveLength(3);
    expect(live.map((entry) => entry.id)).not.toContain(first!.id);
    const after = await facade.tl.connections.get(connection.id, { tenantId: 't1', as: 'admin' });
    expect(after.subscription?.items.map((item) => item.id).sort()).toEqual(live.map((entry) => entry.id).sort());
    expect(after.cursor).not.toBe(cursorBefore);
    const dump = await facade.store.raw.dump();
    expect((dump.messages as Array<{ subject: string }>).map((row) => row.subject)).toEqual(['while removed']);

    // Notifications keep flowing through the recreated subscriptions.
    await facade.ms.deliver({ from: 'client@acme.com', to: 'ana@contoso.com', subject: 'after recreate', text: 'x' });
    await facade.settle();
    expect(facade.eventsNamed('message.synced').map((event) => event.message.subject)).toContain('after recreate');
  });

  it('back-fills 5,000 messages with progress events and goes live', async () => {
    facade = await startFacade({ engine: { backfillPageSize: 500 }, provider: { mode: 'metadata' } });
    facade.ms.addMailbox({ email: 'ana@contoso.com' });
    const start = Date.now() - 100 * 24 * 3_600_000;
    for (let index = 0; index < 5_000; index += 1) {
      const outbound = index % 4 === 0;
      await facade.ms.deliver({
        from: outbound ? 'ana@contoso.com' : 'client@acme.com',
        to: outbound ? 'client@acme.com' : 'ana@contoso.com',
        subject: `history ${index}${index % 100 === 0 ? ' PRJ-1042' : ''}`,
        text: 'x',
        date: new Date(start + index * 60_000),
        mailbox: 'ana@contoso.com',
      });
    }
    const connection = await facade.connect('ana@contoso.com');

    const progress = facade.eventsNamed('backfill.progress').filter((event) => event.connectionId === connection.id);
    expect(progress.length).toBeGreaterThanOrEqual(5);
    const done = progress.map((event) => event.done);
    expect(done).toEqual([...done].sort((left, right) => left - right));
    expect(progress[0]?.estimatedTotal).toBe(5_000);
    expect(progress.at(-1)).toMatchObject({ done: 5_000, progress: { state: 'done' } });
    expect(facade.eventsNamed('backfill.done')).toEqual([expect.objectContaining({ connectionId: connection.id, total: 5_000 })]);
    const stored = await facade.tl.connections.get(connection.id, { tenantId: 't1', as: 'admin' });
    expect(stored.status).toBe('live');
    const dump = await facade.store.raw.dump();
    expect(dump.messages).toHaveLength(5_000);
    const project = await facade.tl.timeline.forRecord({ type: 'project', id: 'p-1042' }, { tenantId: 't1', as: 'admin', limit: 200 });
    expect(project.threads.flatMap((thread) => thread.messages)).toHaveLength(50);
    // Paging stayed within the mailbox's limits: no throttling answer.
    expect(facade.ms.log.entries.filter((entry) => entry.status === 429)).toEqual([]);
  }, 60_000);

  it('never stores, logs or emits the body, though the body is served on demand', async () => {
    facade = await startFacade();
    await facade.connect('ana@contoso.com');
    await facade.ms.deliver({
      from: 'client@acme.com',
      to: 'ana@contoso.com',
      subject: 'Proposal PRJ-1042',
      html: `<p>Confidential: ${CANARY}</p>`,
      attachments: [{ filename: 'proposal.pdf', content: Buffer.from(`%PDF ${CANARY}`), contentType: 'application/pdf' }],
    });
    await facade.settle();
    const [synced] = facade.eventsNamed('message.synced');
    expect(synced?.message.attachments.map((attachment) => attachment.name)).toEqual(['proposal.pdf']);

    const body = await facade.tl.messages.body(synced!.message.id, { tenantId: 't1', as: 'admin' });
    expect(body.html).toContain(CANARY);
    expect(body.text).toContain(CANARY);
    await facade.settle();

    const dump = JSON.stringify(await facade.store.raw.dump());
    expect(dump).toContain('Proposal PRJ-1042');
    expect(dump).not.toContain(CANARY);
    expect(dump).not.toMatch(/bodyPreview|"body"|"snippet"/);
    expect(JSON.stringify(facade.logs)).not.toContain(CANARY);
    expect(JSON.stringify(facade.events)).not.toContain(CANARY);
  });

  it('replies in the same conversation and the sent copy threads back into the timeline', async () => {
    facade = await startFacade();
    await facade.connect('ana@contoso.com');
    facade.ms.addMailbox({ email: 'client@acme.com' });
    const original = await facade.ms.deliver({ from: 'client@acme.com', to: 'ana@contoso.com', subject: 'Change request PRJ-1042', text: 'move it?' });
    await facade.settle();
    const [synced] = facade.eventsNamed('message.synced');

    // A reply with neither text nor html is refused by core before the adapter is called (MailProvider.send gets a validated draft).
    const requests = facade.ms.log.entries.length;
    await expect(facade.tl.messages.reply(synced!.message.id, { tenantId: 't1', as: 'admin' })).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    expect(facade.ms.log.entries.slice(requests).filter((entry) => !(entry.operation ?? entry.path).startsWith('identity.'))).toEqual([]);

    const reply = await facade.tl.messages.reply(synced!.message.id, { tenantId: 't1', as: 'admin', text: 'Done.' });
    const [sent] = facade.ms.sent('ana@contoso.com');
    expect(sent?.conversationId).toBe(original.conversationId);
    expect(sent?.inReplyTo).toBe(original.internetMessageId);
    expect(facade.ms.messages('client@acme.com').find((message) => message.internetMessageId === sent?.internetMessageId)?.conversationId).toBe(
      facade.ms.messages('client@acme.com').find((message) => message.internetMessageId === original.internetMessageId)?.conversationId,
    );
    // The reply carries the provider's id of the sent copy, and is on the timeline already.
    expect(reply).toMatchObject({ providerMessageId: sent?.immutableId, threadId: synced!.message.threadId, direction: 'outbound', folder: 'sent' });
    expect((await facade.tl.timeline.thread(synced!.message.threadId, { tenantId: 't1', as: 'admin' })).map((message) => message.id)).toContain(reply.id);

    await facade.settle();
    const thread = await facade.tl.timeline.thread(synced!.message.threadId, { tenantId: 't1', as: 'admin' });
    expect(thread.map((message) => `${message.direction}/${message.folder}`)).toEqual(['inbound/inbox', 'outbound/sent']);
    expect(thread.find((message) => message.direction === 'outbound')).toMatchObject({ id: reply.id, internetMessageId: sent?.internetMessageId });
    const rows = (await facade.store.raw.dump()).messages as Array<{ providerMessageId: string }>;
    expect(rows.filter((row) => row.providerMessageId === reply.providerMessageId)).toHaveLength(1);
    expect(rows).toHaveLength(2);
  });

  it('shows a reply after its original when Graph stamps both with the same second, before and after the sent copy syncs back', async () => {
    // Graph dates to the second and its Sent Items copy carries no In-Reply-To: without the headers
    // the reply was sent with, the tie fell to the ids and a reply could show above its original.
    const second = Math.floor(Date.now() / 1000) * 1000 + 500;
    facade = await startFacade({ emulator: { now: () => second } });
    await facade.connect('ana@contoso.com');
    const subjects = ['PRJ-1042 north loop', 'PRJ-1042 south loop', 'PRJ-1042 east loop', 'PRJ-1042 west loop'];
    for (const subject of subjects) await facade.ms.deliver({ from: 'client@acme.com', to: 'ana@contoso.com', subject, text: 'check?' });
    await facade.settle();
    const originals = facade.eventsNamed('message.synced').map((event) => event.message);
    expect(originals).toHaveLength(subjects.length);
    const replies: Array<{ id: string }> = [];
    for (const original of originals) replies.push(await facade.tl.messages.reply(original.id, { tenantId: 't1', as: 'admin', text: 'Checked.' }));
    const order = async () =>
      Promise.all(
        originals.map(async (original) => (await facade.tl.timeline.thread(original.threadId, { tenantId: 't1', as: 'admin' })).map((message) => message.id)),
      );
    const expected = originals.map((original, index) => [original.id, replies[index]!.id]);
    expect(await order()).toEqual(expected);
    await facade.settle();
    // The synced-back copies (Graph's second, no headers) replaced the optimistic rows; the order holds.
    const stored = await Promise.all(originals.map((original) => facade.tl.timeline.thread(original.threadId, { tenantId: 't1', as: 'admin' })));
    expect(new Set(stored.flat().map((message) => message.receivedAt))).toEqual(new Set([Math.floor(second / 1000) * 1000]));
    expect(await order()).toEqual(expected);
  });

  it('stores the reply under its id while transport holds it, and the synced copy lands on the same row', async () => {
    facade = await startFacade();
    await facade.connect('ana@contoso.com');
    await facade.ms.deliver({ from: 'client@acme.com', to: 'ana@contoso.com', subject: 'PRJ-1042 invoice', text: 'due?' });
    await facade.settle();
    const [synced] = facade.eventsNamed('message.synced');

    facade.ms.faults.holdOutbox = true;
    const reply = await facade.tl.messages.reply(synced!.message.id, { tenantId: 't1', as: 'admin', text: 'Paid.' });
    await facade.settle();
    expect(facade.ms.messages('ana@contoso.com').find((message) => message.immutableId === reply.providerMessageId)?.folder).toBe('outbox');
    const optimistic = await facade.tl.timeline.thread(synced!.message.threadId, { tenantId: 't1', as: 'admin' });
    expect(optimistic.map((message) => message.id)).toEqual(expect.arrayContaining([synced!.message.id, reply.id]));

    facade.ms.releaseOutbox();
    await facade.settle();
    const rows = (await facade.store.raw.dump()).messages as Array<{ providerMessageId: string }>;
    expect(rows.map((row) => row.providerMessageId).sort()).toEqual([synced!.message.providerMessageId, reply.providerMessageId].sort());
    // Stored once when sent, then the delta upsert of the same id updated that row.
    const replyEvents = facade.eventsNamed('message.synced').filter((event) => event.message.id === reply.id);
    expect(replyEvents.map((event) => event.created)).toEqual([true, false]);
  });

  it('moves a revoked connection to needs_reauth with an event and no retry storm', async () => {
    facade = await startFacade();
    const connection = await facade.connect('ana@contoso.com');
    facade.ms.revokeTokens('ana@contoso.com');
    await facade.ms.deliver({ from: 'client@acme.com', to: 'ana@contoso.com', subject: 'after revoke', text: 'x' });
    await facade.settle();

    expect(facade.eventsNamed('connection.needs_reauth').map((event) => event.connection.id)).toEqual([connection.id]);
    expect((await facade.tl.connections.get(connection.id, { tenantId: 't1', as: 'admin' })).status).toBe('needs_reauth');
    expect(facade.eventsNamed('sync.error').map((event) => event.code)).toEqual(['AUTH_REVOKED']);
  });

  it('offboards: subscriptions deleted at Graph and zero rows left in the store', async () => {
    facade = await startFacade();
    const connection = await facade.connect('ana@contoso.com');
    await facade.ms.deliver({ from: 'client@acme.com', to: 'ana@contoso.com', subject: 'PRJ-1042 kickoff', text: 'x' });
    await facade.settle();
    expect((await facade.store.raw.dump()).messages).toHaveLength(1);

    const result = await facade.tl.connections.disconnect(connection.id, { tenantId: 't1', as: 'admin', purge: true });
    expect(result).toMatchObject({ unsubscribed: true, revoked: true });
    expect(facade.ms.subscriptions()).toEqual([]);
    const dump = await facade.store.raw.dump();
    for (const [table, rows] of Object.entries(dump)) {
      const leftovers = (rows as unknown[]).filter((row) => JSON.stringify(row).includes(connection.id));
      expect(leftovers, table).toEqual([]);
    }
    expect(dump.messages).toEqual([]);
    expect(dump.connections).toEqual([]);

    // Mail after offboarding reaches nobody: no subscription, no rows.
    await facade.ms.deliver({ from: 'client@acme.com', to: 'ana@contoso.com', subject: 'late', text: 'x' });
    await facade.settle();
    expect((await facade.store.raw.dump()).messages).toEqual([]);
  });
});
