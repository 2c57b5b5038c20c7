// SDK CPU per synced message, alone (issue 21): the SDK host in its own process on the memory
// store, Gmail and Pub/Sub emulated in this one, a steady stream spread over many mailboxes (one
// push per message, as in the scale scenario), the host's CPU time divided by messages matched.
// No database and no provider latency, so the figure is the SDK's own work per message: webhook
// intake, push verification, the pull's request building and parsing, matching, events. A
// diagnostic for A/B comparisons on a shared box (CPU time, not wall time), not a scenario:
//   pnpm tsx --conditions=source bench/sdk-cpu.ts [--mailboxes 100] [--rate 40] [--seconds 15] [--rounds 3] [--store memory|sql]
// `--store sql` runs the host on DATABASE_URL's PostgreSQL (a schema of its own, dropped by the rig) or embedded PGlite.
import { parseArgs } from 'node:util';
import os from 'node:os';
import { clientAddress, sleep, startRig } from './lib/rig.js';
import { sqlStoreSpec } from './lib/database.js';

const { values } = parseArgs({
  options: {
    mailboxes: { type: 'string', default: '100' },
    rate: { type: 'string', default: '40' },
    seconds: { type: 'string', default: '15' },
    rounds: { type: 'string', default: '3' },
    store: { type: 'string', default: 'memory' },
  },
});
const mailboxes = Number(values.mailboxes);
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const rounds = Number(values.rounds);

if (values.store !== 'memory' && values.store !== 'sql') throw new Error(`--store is memory or sql, not ${values.store}`);
const store = values.store === 'sql' ? sqlStoreSpec(20) : ({ kind: 'memory' } as const);
const rig = await startRig({ providers: ['gmail'], label: 'sdk-cpu', latencyMs: 0, store, engine: { concurrency: 32 } });
try {
  const emails = Array.from({ length: mailboxes }, (_, index) => `user${index}@acme.example`);
  for (const email of emails) {
    rig.addMailbox('gmail', email);
    await rig.host.connect('gmail', email);
  }
  await rig.google!.flushNotifications();
  await rig.host.idle();
  let sent = 0;
  const round = async (): Promise<{ matched: number; cpuMsPerMessage: number; systemMsPerMessage: number }> => {
    await rig.host.resetStats();
    const total = rate * seconds;
    const started = performance.now();
    const deliveries: Promise<unknown>[] = [];
    for (let index = 0; index < total; index += 1) {
      const wait = started + (index * 1_000) / rate - performance.now();
      if (wait > 1) await sleep(wait);
      const n = sent++;
      deliveries.push(
        rig.deliver('gmail', { to: emails[n % mailboxes] as string, from: clientAddress(n), subject: `RE: PRJ-${10_000 + (n % 1_000)} change request ${n}` }),
      );
    }
    await Promise.all(deliveries);
    const deadline = performance.now() + 30_000;
    while ((await rig.host.counts()).matched < total && performance.now() < deadline) await sleep(100);
    await rig.google!.flushNotifications();
    await rig.host.idle();
    const stats = await rig.host.stats();
    const matched = Math.max(1, stats.matched);
    return { matched: stats.matched, cpuMsPerMessage: (stats.cpu.userMs + stats.cpu.systemMs) / matched, systemMsPerMessage: stats.cpu.systemMs / matched };
  };
  await round(); // warm-up: JIT, connection pools, caches
  // What the host spends with nothing arriving (timers, maintenance): part of every per-message figure below.
  await rig.host.resetStats();
  await sleep(5_000);
  const idle = await rig.host.stats();
  const idleCpuMsPerSecond = ((idle.cpu.userMs + idle.cpu.systemMs) * 1_000) / idle.cpu.wallMs;
  console.log(`idle: ${idleCpuMsPerSecond.toFixed(1)} ms CPU per second (${(idleCpuMsPerSecond / rate).toFixed(3)} ms per message at ${rate}/s)`);
  const results: number[] = [];
  for (let index = 0; index < rounds; index += 1) {
    const result = await round();
    results.push(result.cpuMsPerMessage);
    // The kernel's share (system time: socket reads and writes, mostly) apart from the JavaScript's.
    console.log(
      `round ${index + 1}: ${result.matched} matched, SDK CPU ${result.cpuMsPerMessage.toFixed(3)} ms/msg (system ${result.systemMsPerMessage.toFixed(3)})`,
    );
  }
  const sorted = [...results].sort((left, right) => left - right);
  console.log(
    JSON.stringify({
      mailboxes,
      rate,
      seconds,
      store: store.kind,
      idleCpuMsPerSecond: Number(idleCpuMsPerSecond.toFixed(1)),
      medianCpuMsPerMessage: Number(sorted[Math.floor(sorted.length / 2)]!.toFixed(3)),
      rounds: results.map((value) => Number(value.toFixed(3))),
      loadAverage: os.loadavg().map((value) => Number(value.toFixed(1))),
    }),
  );
} finally {
  await rig.close();
}
