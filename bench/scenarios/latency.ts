// 1. Notification → stored and matched latency. One message at a time is delivered to a connected
// mailbox; the host times the push arriving at its HTTP handler and the `message.matched` event for
// it. Right after each sample a bare fetch client makes the provider round trips the pull cannot
// avoid (Gmail: history.list then messages.get; Outlook: one delta request per folder, in
// parallel) against the same emulator with the same 20 ms round-trip time. SDK overhead is the
// latency minus the median of those floors.
import { performance } from 'node:perf_hooks';
import { sqlStoreSpec, describeStore } from '../lib/database.js';
import { gmailShapesFrom, graphSelectFrom, rawGmail, rawGraph, type RawGmail, type RawGraph } from '../lib/providers.js';
import { clientAddress, once, startRig, type ProviderName, type Rig } from '../lib/rig.js';
import { figure, type Figure, type Scenario, type ScenarioContext, type Target } from '../lib/scenario.js';
import { summarize } from '../lib/stats.js';
import type { StoreSpec } from '../host/protocol.js';

const RTT_MS = 20;
const WARM_UP = 5;
/**
 * Samples are spaced like mail that arrives on its own: a stream of back-to-back messages into one
 * mailbox is a burst, which the engine paces on purpose (≤ 10 pulls/s per mailbox, `pushPullsPerSecond`)
 * and which the api-cost scenario measures.
 */
const GAP_MS = 150;

async function measure(context: ScenarioContext, rig: Rig, provider: ProviderName, label: string, deadline: number, samples: { min: number; max: number }) {
  const email = `ana.${provider}@acme.example`;
  rig.addMailbox(provider, email);
  const connection = await rig.host.connect(provider, email);
  await rig.host.idle();
  let raw: RawGmail | RawGraph | undefined;
  const latencies: number[] = [];
  const floors: number[] = [];
  const spans: Array<Record<string, number>> = [];
  let index = 0;
  // At least `min` samples even when set-up ate the slice: a median of nothing says nothing.
  while (latencies.length < samples.min || (performance.now() < deadline && latencies.length < samples.max)) {
    await rig.host.arm(connection.connectionId);
    await rig.deliver(provider, { to: email, from: clientAddress(index), subject: `PRJ-${10_000 + (index % 1_000)} weekly status ${index}` });
    const sample = await rig.host.collect(10_000);
    await rig.host.idle();
    await new Promise((resolve) => setTimeout(resolve, GAP_MS));
    if (index >= WARM_UP && raw) {
      latencies.push(sample.pushToMatchedMs);
      floors.push((await raw.pull()).ms);
      spans.push(sample.spans);
    } else if (index === WARM_UP - 1) {
      // The bare client copies the SDK's request parameters from the warm-up pulls and starts its
      // own cursor here, so from the next message on it pulls exactly what the SDK pulled.
      if (provider === 'gmail') raw = await rawGmail(rig.google!, email, await gmailShapesFrom(rig.host, rig.google!));
      else {
        const graph = await rawGraph(rig.microsoft!, email, ['inbox'], await graphSelectFrom(rig.host, rig.microsoft!));
        await graph.prime();
        raw = graph;
      }
    }
    index += 1;
  }
  context.log(`${label}: ${latencies.length} samples, latency median ${summarize(latencies).median} ms, floor median ${summarize(floors).median} ms`);
  return { latencies, floors, spans };
}

/**
 * Where the time goes, median per part: the SDK's own telemetry spans (webhook verification, the
 * provider pull, matching, the store write), the rest (queue, lease, connection read, session,
 * events), and how much of the pull is above the bare round trips (client library + adapter).
 */
function breakdown(latencies: number[], floors: number[], spans: Array<Record<string, number>>): Record<string, number> {
  const names = [...new Set(spans.flatMap((entry) => Object.keys(entry)))];
  const parts: Record<string, number> = {};
  for (const name of names) parts[name] = summarize(spans.map((entry) => entry[name] ?? 0)).median;
  const covered = spans.map((entry) => Object.values(entry).reduce((sum, value) => sum + value, 0));
  parts['between spans (queue, lease, reads, session, events)'] = summarize(latencies.map((value, index) => value - (covered[index] ?? 0))).median;
  const pull = spans.map((entry) => entry['provider.pullChanges'] ?? Number.NaN);
  parts['pull above the bare round trips'] = summarize(pull.map((value) => value - summarize(floors).median)).median;
  return Object.fromEntries(Object.entries(parts).map(([name, value]) => [name, Math.round(value * 100) / 100]));
}

/**
 * Issue 21's Gmail targets: p50 ≤ 3 ms on the memory store, ≤ 8 ms on PostgreSQL; Outlook keeps
 * the earlier p50 < 5 ms. The p99 < 20 ms bound holds for the memory store.
 */
function overheadTargets(variant: Variant): Target[] {
  const p99: Target[] = variant.store.kind === 'memory' ? [{ of: 'p99', op: '<', value: 20, text: 'p99 < 20 ms' }] : [];
  if (variant.provider === 'outlook') return [{ of: 'median', op: '<', value: 5, text: 'p50 < 5 ms' }, ...p99];
  return variant.store.kind === 'memory'
    ? [{ of: 'median', op: '<=', value: 3, text: 'p50 ≤ 3 ms' }, ...p99]
    : [{ of: 'median', op: '<=', value: 8, text: 'p50 ≤ 8 ms' }];
}

interface Variant {
  rig: () => Promise<Rig>;
  provider: ProviderName;
  label: string;
  store: StoreSpec;
  share: number;
}

export const latency: Scenario = {
  name: 'latency',
  title: 'Notification → stored and matched latency, SDK overhead over the provider round trips',
  budget: { full: 60, quick: 14 },
  async run(context) {
    const sqlStore = sqlStoreSpec();
    const memoryRig = once(() =>
      startRig({ providers: ['gmail', 'outlook'], label: 'latency/memory', latencyMs: RTT_MS, store: { kind: 'memory' }, notificationIntervalMs: 0 }),
    );
    const sqlRig = once(() =>
      startRig({ providers: ['gmail'], label: `latency/${sqlStore.kind}`, latencyMs: RTT_MS, store: sqlStore, notificationIntervalMs: 0 }),
    );
    const variants: Variant[] = [
      { rig: memoryRig, provider: 'gmail', store: { kind: 'memory' }, label: 'gmail/memory', share: 0.37 },
      { rig: memoryRig, provider: 'outlook', store: { kind: 'memory' }, label: 'outlook/memory', share: 0.33 },
      ...(context.quick ? [] : [{ rig: sqlRig, provider: 'gmail' as const, store: sqlStore, label: `gmail/${sqlStore.kind}`, share: 0.3 }]),
    ];
    const figures: Figure[] = [];
    const details: Record<string, unknown> = {};
    const notes: string[] = [];
    const started = performance.now();
    let elapsedShare = 0;
    try {
      for (const variant of variants) {
        elapsedShare += variant.share;
        const rig = await variant.rig();
        const deadline = Math.min(context.deadline, started + context.budgetMs * elapsedShare);
        const { latencies, floors, spans } = await measure(
          context,
          rig,
          variant.provider,
          variant.label,
          deadline,
          context.quick ? { min: 15, max: 40 } : { min: 50, max: 250 },
        );
        const floorMedian = summarize(floors).median;
        const floorName = variant.provider === 'gmail' ? 'history.list + messages.get' : 'delta of the notified folder';
        figures.push(
          figure({ name: `${variant.label} push→matched`, unit: 'ms', better: 'lower', samples: latencies, limit: { name: floorName, samples: floors } }),
          figure({
            name: `${variant.label} SDK overhead`,
            unit: 'ms',
            better: 'lower',
            samples: latencies.map((value) => value - floorMedian),
            limit: { name: floorName, samples: floors },
            targets: overheadTargets(variant),
          }),
        );
        details[variant.label] = { store: describeStore(variant.store), samples: latencies.length, medianBreakdownMs: breakdown(latencies, floors, spans) };
        const overhead = summarize(latencies.map((value) => value - floorMedian));
        if (overhead.median < -1)
          notes.push(`${variant.label}: overhead median is negative (${overhead.median} ms): the floor is mis-measured; do not trust this row.`);
      }
    } finally {
      await memoryRig.close();
      await sqlRig.close();
    }
    notes.push(
      `Emulator round-trip time ${RTT_MS} ms per request. Latency runs from the push/notification reaching the host's HTTP server to the message.matched event, in the SDK's own process.`,
      'Overhead = each latency − the median floor of the same run; the floor is the same provider requests, with the parameters the SDK itself sent (field masks, formats, $select), made by a bare fetch client (no SDK, no client library) right after each sample.',
      'The 5 ms / 20 ms targets apply to the memory store (the SDK alone); the SQL row adds the database writes of a real deployment.',
    );
    return { figures, settings: { rttMs: RTT_MS, warmUpSamples: WARM_UP, gmailNotificationIntervalMs: 0, crmRecords: 3_000 }, notes, details };
  },
};
