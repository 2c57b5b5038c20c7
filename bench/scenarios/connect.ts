// 5. Connect-to-live: from the OAuth callback reaching the SDK (code exchange) through the
// watch / Graph subscriptions to the first pushed message synced. Each repetition connects a fresh
// mailbox that already holds some mail (back-fill runs alongside, as in real life); the moment the
// SDK says `connection.live`, a client's message lands in the mailbox, and the clock stops when the
// SDK has stored it from its push.
import { performance } from 'node:perf_hooks';
import { rawGmail, rawGraph } from '../lib/providers.js';
import { clientAddress, startRig, type ProviderName, type Rig } from '../lib/rig.js';
import { figure, type Figure, type Scenario } from '../lib/scenario.js';
import { summarize } from '../lib/stats.js';

const RTT_MS = 20;
const EXISTING = 20;
/** Sequential provider round trips any client needs: token, watch/subscribe, then the pull (two for Gmail). */
const MINIMUM_ROUND_TRIPS: Record<ProviderName, number> = { gmail: 4, outlook: 4 };

interface Sample {
  liveMs: number;
  firstPushSyncedMs: number;
  backfillDoneMs: number | null;
}

async function connectOnce(rig: Rig, provider: ProviderName, email: string, index: number): Promise<Sample> {
  rig.addMailbox(provider, email);
  for (let message = 0; message < EXISTING; message += 1) {
    await rig.deliver(provider, {
      to: email,
      from: clientAddress(index * 100 + message),
      subject: `Earlier mail ${message}`,
      date: new Date(Date.now() - (EXISTING - message) * 3600_000),
    });
  }
  let delivered: Promise<string> | undefined;
  const stop = rig.host.rpc.on('live', (payload) => {
    const live = payload as { accountEmail: string };
    if (live.accountEmail.toLowerCase() === email && !delivered) {
      delivered = rig.deliver(provider, { to: email, from: clientAddress(index), subject: `PRJ-${10_000 + index} kick-off` });
    }
  });
  try {
    const connection = await rig.host.connect(provider, email);
    if (!delivered) throw new Error('connection.live was not observed');
    const syncedAt = await rig.host.waitSynced(await delivered, 10_000);
    await rig.host.idle();
    const timeline = await rig.host.timeline(connection.connectionId);
    if (!timeline) throw new Error('no timeline for the connection');
    return {
      liveMs: (timeline.liveAt ?? Number.NaN) - timeline.callbackAt,
      firstPushSyncedMs: syncedAt - timeline.callbackAt,
      backfillDoneMs: timeline.backfillDoneAt === null ? null : timeline.backfillDoneAt - timeline.callbackAt,
    };
  } finally {
    stop();
  }
}

export const connect: Scenario = {
  name: 'connect',
  title: 'Connect-to-live: code exchange → watch/subscription → first push synced',
  budget: { full: 25, quick: 10 },
  async run(context) {
    const repetitions = context.quick ? { min: 3, max: 4 } : { min: 6, max: 15 };
    // The emulator's one-push-per-second window is opened by the watch's own first push; it is
    // disabled here so the figure is the SDK's and the round trips', not the emulator's pacing.
    const rig = await startRig({ providers: ['gmail', 'outlook'], label: 'connect', latencyMs: RTT_MS, store: { kind: 'memory' }, notificationIntervalMs: 0 });
    const figures: Figure[] = [];
    const details: Record<string, unknown> = {};
    try {
      const started = performance.now();
      for (const [order, provider] of (['gmail', 'outlook'] as const).entries()) {
        const deadline = started + (context.budgetMs * (order + 1)) / 2;
        const samples: Sample[] = [];
        while (samples.length < repetitions.min || (performance.now() < Math.min(deadline, context.deadline) && samples.length < repetitions.max)) {
          samples.push(await connectOnce(rig, provider, `new${samples.length}@${provider === 'gmail' ? 'acme' : 'contoso'}.example`, samples.length));
        }
        // One provider round trip, timed by a bare client against the same emulator.
        const probeMailbox = `probe@${provider === 'gmail' ? 'acme' : 'contoso'}.example`;
        rig.addMailbox(provider, probeMailbox);
        const roundTrips: number[] = [];
        if (provider === 'gmail') {
          const raw = await rawGmail(rig.google!, probeMailbox);
          for (let sample = 0; sample < 10; sample += 1) roundTrips.push((await raw.list(1)).ms);
        } else {
          const raw = await rawGraph(rig.microsoft!, probeMailbox, ['inbox']);
          for (let sample = 0; sample < 10; sample += 1) roundTrips.push((await raw.page('inbox', 1)).ms);
        }
        const floor = roundTrips.map((ms) => ms * MINIMUM_ROUND_TRIPS[provider]);
        figures.push(
          figure({
            name: `${provider} callback → first push synced`,
            unit: 'ms',
            better: 'lower',
            samples: samples.map((sample) => sample.firstPushSyncedMs),
            limit: { name: `${MINIMUM_ROUND_TRIPS[provider]} provider round trips`, samples: floor },
            targets: [{ of: 'p99', op: '<', value: 2_000, text: '< 2 s' }],
          }),
          figure({
            name: `${provider} callback → live`,
            unit: 'ms',
            better: 'lower',
            samples: samples.map((sample) => sample.liveMs),
            limit: { name: '2 provider round trips (token, watch/subscribe)', samples: roundTrips.map((ms) => ms * 2) },
          }),
        );
        details[provider] = {
          repetitions: samples.length,
          backfillDoneMs: summarize(samples.flatMap((sample) => (sample.backfillDoneMs === null ? [] : [sample.backfillDoneMs]))),
          roundTripMs: summarize(roundTrips),
        };
        context.log(`${provider}: first push synced median ${summarize(samples.map((sample) => sample.firstPushSyncedMs)).median} ms over ${samples.length}`);
      }
    } finally {
      await rig.close();
    }
    return {
      figures,
      settings: { rttMs: RTT_MS, existingMessages: EXISTING, gmailNotificationIntervalMs: 0 },
      notes: [
        'The clock starts when the OAuth callback reaches the SDK (the user has approved) and stops when the message that arrived at the moment of connection.live is stored from its push. Back-fill of the existing mail runs at the same time.',
        `Limit: the sequential provider round trips a minimal client needs (Gmail: token, watch, history.list, messages.get; Outlook: token, subscription, delta for the cursor, delta for the message), each timed as one request against the same emulator (${RTT_MS} ms configured).`,
      ],
      details,
    };
  },
};
