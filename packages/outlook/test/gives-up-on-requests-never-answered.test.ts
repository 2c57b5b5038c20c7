import { afterEach, describe, expect, it } from 'vitest';
import { expectThreadlinkError, pullAll, recordingClock, startHarness, type Harness, replyContext } from './support.js';

const ANA = 'ana@contoso.com';
const CLIENT = 'client@acme.com';

describe('Graph requests never answered', () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
    harness = undefined;
  });

  const operations = (from: number): string[] =>
    (harness?.ms.log.entries ?? [])
      .slice(from)
      .map((entry) => entry.operation ?? entry.path)
      .filter((operation) => !operation.startsWith('identity.'));

  it('abandons a delta read at its deadline and reads again, so the mail still arrives', async () => {
    harness = await startHarness({ provider: { requestTimeoutMs: 300 } });
    const connected = await harness.connect(ANA, { clock: recordingClock() });
    // A pull nothing goes wrong in: one delta read per synced folder.
    const clean = harness.ms.log.entries.length;
    await pullAll(harness.provider, connected);
    const reads = operations(clean).filter((operation) => operation === 'delta').length;
    await harness.ms.deliver({ from: CLIENT, to: ANA, subject: 'Order 12', text: 'ship?' });
    const from = harness.ms.log.entries.length;
    harness.ms.failNext('delta', { status: 'hang' });

    const started = Date.now();
    const changes = await pullAll(harness.provider, connected);

    expect(changes.map((change) => (change.type === 'upsert' ? change.message.subject : change.type))).toEqual(['Order 12']);
    // The same reads, and once more the one that hung (logged with status 0: never answered).
    const deltas = harness.ms.log.entries.slice(from).filter((entry) => entry.operation === 'delta');
    expect(deltas).toHaveLength(reads + 1);
    expect(deltas.filter((entry) => entry.status === 0)).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('reports Graph unreachable, retryable, when no attempt is ever answered', async () => {
    harness = await startHarness({ provider: { requestTimeoutMs: 100 } });
    const connected = await harness.connect(ANA, { clock: recordingClock() });
    harness.ms.failNext('delta', { status: 'hang', count: 50 });

    const error = await expectThreadlinkError(harness.provider.pullChanges(connected.session, connected.connection.cursor!), 'PROVIDER_UNAVAILABLE');

    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/timeout/i);
  });

  it('ends a request never answered as soon as the session is aborted, long before its deadline', async () => {
    harness = await startHarness({ provider: { requestTimeoutMs: 60_000 } });
    const connected = await harness.connect(ANA, { clock: recordingClock() });
    harness.ms.failNext('delta', { status: 'hang', count: 50 });
    const controller = new AbortController();
    const session = { ...connected.session, signal: controller.signal };
    setTimeout(() => controller.abort(new Error('the instance is stopping')), 100);

    const started = Date.now();
    const outcome = await harness.provider.pullChanges(session, connected.connection.cursor!).then(
      () => 'answered',
      () => 'failed',
    );

    expect(outcome).toBe('failed');
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('settles a /send whose answer never comes by the draft, and sends nothing twice', async () => {
    harness = await startHarness({ provider: { requestTimeoutMs: 300 } });
    harness.ms.addMailbox({ email: CLIENT });
    const connected = await harness.connect(ANA, { clock: recordingClock() });
    await harness.ms.deliver({ from: `Carla <${CLIENT}>`, to: ANA, subject: 'Order 12', text: 'ship?' });
    const [change] = await pullAll(harness.provider, connected);
    if (change?.type !== 'upsert') throw new Error('the original did not sync');
    const from = harness.ms.log.entries.length;
    // Exchange sends it; the answer is never written.
    harness.ms.failAfter('messages.send', { status: 'hang' });

    const sent = await harness.provider.send(connected.session, replyContext(change.message, { text: 'Shipping today.' }));

    expect(operations(from)).toEqual(['messages.createReply', 'messages.send', 'messages.get']);
    expect(harness.ms.messages(CLIENT).filter((entry) => entry.subject === 'RE: Order 12')).toHaveLength(1);
    expect(harness.ms.sent(ANA).map((copy) => copy.immutableId)).toEqual([sent.providerMessageId]);
  });
});
