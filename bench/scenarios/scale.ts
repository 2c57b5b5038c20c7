// 3. Scale: many connected Gmail mailboxes on the SQL store, a steady stream of new mail spread
// over them, for a fixed time. The SDK runs alone in its host process (its event loop, heap and
// RSS are measured there); this process plays Gmail + Pub/Sub and generates the load.
import { performance } from 'node:perf_hooks';
import { committedTransactions as committed, describeStore, sqlStoreSpec } from '../lib/database.js';
import { gmailShapesFrom, rawGmail } from '../lib/providers.js';
import { clientAddress, sleep, startRig } from '../lib/rig.js';
import { figure, type Figure, type Scenario } from '../lib/scenario.js';
import { ratesPerWindow, round, summarize } from '../lib/stats.js';
import { mapWithConcurrency } from '@threadlink/core/provider';
import os from 'node:os';
import { machineCpu, processesCpuMs } from '../lib/cpu.js';

const RTT_MS = 20;
const MB = 1024 * 1024;

export const scale: Scenario = {
  name: 'scale',
  title: 'Scale: connected mailboxes × sustained notifications on the SQL store',
  // The rate sweep (BENCH_SCALE_SWEEP=1) adds two 15 s windows with their drain and CPU reads.
  budget: { full: process.env.BENCH_SCALE_SWEEP ? 320 : 200, quick: 25 },
  async run(context) {
    // BENCH_SCALE_MAILBOXES: fewer mailboxes on a box too loaded to connect 1,000 within the set-up budget.
    let mailboxes = Number(process.env.BENCH_SCALE_MAILBOXES) || (context.quick ? 100 : 1_000);
    const rate = context.quick ? 50 : 200;
    const seconds = context.quick ? 10 : 60;
    const concurrency = 32;
    const store = sqlStoreSpec(20);
    const notes: string[] = [];
    // Connecting is not what is measured: the emulator answers without delay until the load starts.
    const rig = await startRig({ providers: ['gmail'], label: 'scale', latencyMs: 0, store, engine: { concurrency } });
    try {
      const before = await rig.host.memory(true);
      const wanted = Array.from({ length: mailboxes }, (_, index) => `user${index}@acme.example`);
      const connectStarted = performance.now();
      // Connecting is set-up, not the measurement: it gets at most 40 % of the budget.
      const connectDeadline = connectStarted + context.budgetMs * 0.4;
      const attempts = await mapWithConcurrency(wanted, 16, async (email) => {
        if (performance.now() > connectDeadline) return null;
        rig.addMailbox('gmail', email);
        return rig.host.connect('gmail', email);
      });
      const connections = attempts.filter((connection) => connection !== null);
      const emails = connections.map((connection) => connection.accountEmail);
      await rig.google!.flushNotifications();
      await rig.host.idle();
      const connectSeconds = (performance.now() - connectStarted) / 1000;
      if (emails.length < mailboxes) {
        notes.push(
          `Scaled down: ${emails.length} of ${mailboxes} mailboxes connected within the set-up budget (${connectSeconds.toFixed(0)} s through the real OAuth flow); the load ran on those.`,
        );
        mailboxes = emails.length;
      }
      context.log(`${mailboxes} mailboxes connected in ${connectSeconds.toFixed(1)} s`);
      const connected = await rig.host.memory(true);

      rig.setLatency(RTT_MS);
      // One message through the SDK first, so the bare client can copy its request parameters.
      await rig.deliver('gmail', { to: emails[0] as string, from: clientAddress(0), subject: 'PRJ-10000 first probe' });
      await rig.google!.flushNotifications();
      await rig.host.idle();
      const raw = await rawGmail(rig.google!, emails[0] as string, await gmailShapesFrom(rig.host, rig.google!));
      const floors: number[] = [];
      for (let sample = 0; sample < (context.quick ? 8 : 15); sample += 1) {
        await rig.deliver('gmail', { to: emails[0] as string, from: clientAddress(sample), subject: `PRJ-${10_000 + sample} floor probe` });
        await rig.google!.flushNotifications();
        await rig.host.idle();
        floors.push((await raw.pull()).ms);
      }

      // Idle baseline of the host's event loop, then the load.
      await rig.host.resetStats();
      await sleep(context.quick ? 1_000 : 2_000);
      const idle = await rig.host.stats();
      /**
       * One load window: `loadRate` messages/s spread over the mailboxes for `loadSeconds`, then a
       * bounded drain. The host's counts start again at resetStats, so each window waits for its own.
       */
      const runLoad = async (loadRate: number, loadSeconds: number) => {
        await rig.host.resetStats();
        const parentCpu = process.cpuUsage();
        const commitsBefore = await committed(store);
        const databaseCpuBefore = store.kind === 'postgres' ? await processesCpuMs(/^postgres/) : null;
        const box = machineCpu();
        const loadStarted = performance.now();
        const deliveredAt: number[] = [];
        const total = loadRate * loadSeconds;
        let late = 0;
        for (let index = 0; index < total; index += 1) {
          const due = loadStarted + (index * 1_000) / loadRate;
          const wait = due - performance.now();
          if (wait > 1) await sleep(wait);
          else if (wait < -50) late += 1;
          void rig
            .deliver('gmail', {
              to: emails[index % mailboxes] as string,
              from: clientAddress(index),
              subject: `RE: PRJ-${10_000 + (index % 1_000)} change request ${index}`,
            })
            .then(() => deliveredAt.push(Date.now()));
        }
        const loadEnded = performance.now();
        // Drain: everything delivered must be matched (bounded wait).
        const drainDeadline = performance.now() + 30_000;
        let counts = await rig.host.counts();
        while (counts.matched < total && performance.now() < drainDeadline) {
          await sleep(100);
          counts = await rig.host.counts();
        }
        const drainSeconds = (performance.now() - loadEnded) / 1000;
        const boxBusy = box.stop();
        const databaseCpuAfter = store.kind === 'postgres' ? await processesCpuMs(/^postgres/) : null;
        const commitsAfter = await committed(store);
        const stats = await rig.host.stats();
        const parent = process.cpuUsage(parentCpu);
        const matched = Math.max(1, stats.matched);
        return {
          loadRate,
          loadSeconds,
          total,
          late,
          deliveredAt,
          loadStarted,
          loadEnded,
          drainSeconds,
          boxBusy,
          stats,
          parent,
          commitsBefore,
          commitsAfter,
          databaseCpuBefore,
          databaseCpuAfter,
          sdkCpuMsPerMessage: (stats.cpu.userMs + stats.cpu.systemMs) / matched,
          transactionsPerMessage: commitsBefore !== null && commitsAfter !== null ? (commitsAfter - commitsBefore) / matched : null,
          databaseCpuMsPerMessage: databaseCpuBefore !== null && databaseCpuAfter !== null ? (databaseCpuAfter - databaseCpuBefore) / matched : null,
        };
      };

      // The rate sweep (full runs): lighter and heavier windows around the main one, shorter, to see
      // where latency departs from the idle floor. The main window (200/s) keeps its figures below.
      // Opt-in (BENCH_SCALE_SWEEP=1, budget 320 s): on a loaded 2-core box the extra windows overran the 200 s budget.
      const sweepRates = context.quick || !process.env.BENCH_SCALE_SWEEP ? [] : [100, 400];
      const sweepSeconds = 15;
      // The main window goes first: it carries the host's warm-up (JIT, pools, each mailbox's first
      // push looking its connections up), which 60 s dilute; a 15 s window run first was mostly warm-up
      // (100/s on the bench box: 4.25 transactions and 3.2 ms SDK CPU per message when run first, 3.31 and
      // 2.6 ms after the main window).
      const sweep: Array<Awaited<ReturnType<typeof runLoad>>> = [];
      const main = await runLoad(rate, seconds);
      for (const sweepRate of sweepRates) sweep.push(await runLoad(sweepRate, sweepSeconds));
      const {
        total,
        late,
        deliveredAt,
        loadStarted,
        loadEnded,
        drainSeconds,
        boxBusy,
        stats,
        parent,
        commitsBefore,
        commitsAfter,
        databaseCpuBefore,
        databaseCpuAfter,
      } = main;
      context.log(
        `offered ${total} in ${((loadEnded - loadStarted) / 1000).toFixed(1)} s, matched ${stats.matched}, drained ${drainSeconds.toFixed(1)} s after`,
      );

      const hostCpuPerMessage = (stats.cpu.userMs + stats.cpu.systemMs) / Math.max(1, stats.matched);
      const windowStart = Math.min(...deliveredAt);
      const windowEnd = windowStart + seconds * 1_000;
      const offered = ratesPerWindow(deliveredAt, 1_000, windowStart, windowEnd);
      // Throughput counts seconds fully inside the load, skipping the first (pipeline filling).
      const throughput = ratesPerWindow(stats.matchedTimes, 1_000, windowStart + 1_000, windowEnd);
      const perConnectionHeap = (connected.heapUsed - before.heapUsed) / mailboxes;
      const perConnectionRss = (connected.rss - before.rss) / mailboxes;
      const rowBytes = await rig.host.rpc.call<number>('connectionBytes', { connectionId: connections[0]?.connectionId ?? '' });
      if (stats.matched < total) notes.push(`Only ${stats.matched} of ${total} messages were matched within 30 s after the load: the SDK fell behind.`);
      if (late > total * 0.01)
        notes.push(`The load generator was late for ${late} deliveries (> 50 ms behind schedule): offered rate is below nominal; see the offered figure.`);
      if (Object.keys(stats.syncErrors).length > 0) notes.push(`Sync errors during the load: ${JSON.stringify(stats.syncErrors)}.`);
      if (boxBusy >= 0.9) {
        const sdkCpu = (stats.cpu.userMs + stats.cpu.systemMs) / Math.max(1, stats.matched);
        notes.push(
          `The machine was saturated (${Math.round(boxBusy * 100)} % of ${os.cpus().length} cores busy): the SDK process used ${round((stats.cpu.userMs + stats.cpu.systemMs) / stats.cpu.wallMs, 2)} of a core (${round(sdkCpu, 2)} ms per message, i.e. ≈ ${Math.round(1_000 / Math.max(0.001, sdkCpu))} messages/s per core of SDK work); the rest went to PostgreSQL (${commitsBefore !== null && commitsAfter !== null ? round((commitsAfter - commitsBefore) / Math.max(1, stats.matched), 1) : '?'} transactions and ${databaseCpuBefore !== null && databaseCpuAfter !== null ? round((databaseCpuAfter - databaseCpuBefore) / Math.max(1, stats.matched), 2) : '?'} ms of server CPU per message), the emulators, the load generator and other work on the box.`,
        );
      }

      const figures: Figure[] = [
        figure({
          name: 'throughput (matched/s)',
          unit: 'msg/s',
          better: 'higher',
          samples: throughput,
          limit: { name: 'offered (delivered/s)', samples: offered },
          targets: [{ of: 'ratio.median', op: '>=', value: 0.98, text: 'keeps up (≥ 0.98× offered)' }],
        }),
        figure({
          name: 'push→matched latency under load',
          unit: 'ms',
          better: 'lower',
          samples: stats.latencies,
          limit: { name: 'history.list + messages.get (idle)', samples: floors },
        }),
        figure({
          name: 'event-loop delay p99',
          unit: 'ms',
          better: 'lower',
          samples: [stats.eventLoopDelay.p99],
          limit: { name: 'same host idle', samples: [idle.eventLoopDelay.p99] },
        }),
        figure({
          name: 'event-loop delay max',
          unit: 'ms',
          better: 'lower',
          samples: [stats.eventLoopDelay.max],
          limit: { name: 'same host idle', samples: [idle.eventLoopDelay.max] },
        }),
        figure({
          name: 'RSS peak under load',
          unit: 'MB',
          better: 'lower',
          samples: [Math.max(stats.memory.rssPeak, connected.rss) / MB],
          limit: { name: 'RSS before any mailbox (modules loaded)', samples: [before.rss / MB] },
        }),
        figure({
          name: 'heap per connection',
          unit: 'KB',
          better: 'lower',
          samples: [perConnectionHeap / 1024],
          limit: { name: 'its stored connection row (JSON)', samples: [rowBytes / 1024] },
        }),
        figure({
          name: 'SDK CPU per message',
          unit: 'ms',
          better: 'lower',
          samples: [hostCpuPerMessage],
          limit: { name: `the whole box per offered message (${os.cpus().length} cores ÷ ${rate}/s)`, samples: [(os.cpus().length * 1_000) / rate] },
        }),
      ];
      if (databaseCpuBefore !== null && databaseCpuAfter !== null) {
        figures.push(
          figure({
            name: 'PostgreSQL server CPU per message',
            unit: 'ms',
            better: 'lower',
            samples: [(databaseCpuAfter - databaseCpuBefore) / Math.max(1, stats.matched)],
            limit: { name: 'the SDK process CPU per message', samples: [hostCpuPerMessage] },
          }),
        );
      }
      if (commitsBefore !== null && commitsAfter !== null) {
        figures.push(
          figure({
            name: 'PostgreSQL transactions per synced message',
            unit: 'transactions',
            better: 'lower',
            samples: [(commitsAfter - commitsBefore) / Math.max(1, stats.matched)],
            limit: { name: 'minimum (the one applySync)', samples: [1] },
          }),
        );
      }
      const floorMedian = summarize(floors).median;
      const windows = [...sweep, main].sort((left, right) => left.loadRate - right.loadRate);
      for (const window of windows) {
        const latency = summarize(window.stats.latencies);
        context.log(
          `rate ${window.loadRate}/s: p50 ${round(latency.median, 1)} ms, p99 ${round(latency.p99, 1)} ms (floor ${round(floorMedian, 1)}), SDK CPU ${round(window.sdkCpuMsPerMessage, 2)} ms/msg, ${window.transactionsPerMessage === null ? '?' : round(window.transactionsPerMessage, 2)} transactions/msg, box ${Math.round(window.boxBusy * 100)} % busy`,
        );
      }
      for (const window of sweep) {
        const label = `${window.loadRate} offered/s (${window.loadSeconds} s)`;
        figures.push(
          figure({
            name: `rate sweep ${label}: push→matched latency`,
            unit: 'ms',
            better: 'lower',
            samples: window.stats.latencies,
            limit: { name: 'history.list + messages.get (idle)', samples: floors },
          }),
          figure({
            name: `rate sweep ${label}: SDK CPU per message`,
            unit: 'ms',
            better: 'lower',
            samples: [window.sdkCpuMsPerMessage],
            limit: { name: 'target', samples: [1.5] },
          }),
        );
        if (window.transactionsPerMessage !== null) {
          figures.push(
            figure({
              name: `rate sweep ${label}: PostgreSQL transactions per synced message`,
              unit: 'transactions',
              better: 'lower',
              samples: [window.transactionsPerMessage],
              limit: { name: 'target', samples: [2] },
            }),
          );
        }
      }
      // Where latency departs from the floor: the first rate whose median is over twice the idle floor.
      const departs = windows.find((window) => summarize(window.stats.latencies).median > 2 * floorMedian);
      if (windows.length > 1) {
        notes.push(
          `Rate sweep (${windows.map((window) => `${window.loadRate}/s`).join(', ')}; load average ${os
            .loadavg()
            .map((value) => value.toFixed(1))
            .join(' / ')} at the end): ` +
            windows
              .map(
                (window) =>
                  `${window.loadRate}/s → p50 ${round(summarize(window.stats.latencies).median, 0)} ms, p99 ${round(summarize(window.stats.latencies).p99, 0)} ms, ${round(window.sdkCpuMsPerMessage, 2)} ms SDK CPU and ${window.transactionsPerMessage === null ? '?' : round(window.transactionsPerMessage, 2)} transactions per message, box ${Math.round(window.boxBusy * 100)} % busy`,
              )
              .join('; ') +
            `. ${departs ? `Latency departs from the idle floor (median over 2× its ${round(floorMedian, 0)} ms) at ${departs.loadRate}/s.` : `Latency stays within 2× the idle floor (${round(floorMedian, 0)} ms) at every rate.`} The windows run one after another on the same mailboxes, lightest first.`,
        );
      }
      return {
        figures,
        settings: {
          mailboxes,
          ratePerSecond: rate,
          seconds,
          rttMs: RTT_MS,
          store: describeStore(store),
          engineConcurrency: concurrency,
          gmailNotificationIntervalMs: 1_000,
        },
        notes: [
          ...notes,
          `engine.concurrency = ${concurrency} (default 8): with ~2 provider round trips per job a worker holds a job ≥ ${2 * RTT_MS} ms, so 8 concurrent jobs cap one process near ${Math.round((8 * 1_000) / (2 * RTT_MS + 10))} jobs/s at this RTT.`,
          'Latency is attributed per message: from the first push for its mailbox that reached the host after the message was received, to its message.matched event.',
          'Heap/RSS per connection: (after connecting all mailboxes − before) / mailboxes, after a forced GC, in the host process.',
          `The whole machine was ${Math.round(boxBusy * 100)} % busy during the load (the SDK host, PostgreSQL, the emulators and load generator, and anything else on the box).`,
          'PostgreSQL transactions per message come from pg_stat_database.xact_commit (every autocommit statement, reads included, is one transaction) over the load, divided by messages matched.',
        ],
        details: {
          connectSeconds: round(connectSeconds, 1),
          delivered: deliveredAt.length,
          matched: stats.matched,
          notifications: stats.notifications,
          drainSeconds: round(drainSeconds, 1),
          eventLoopDelay: { load: stats.eventLoopDelay, idle: idle.eventLoopDelay },
          memory: { before, connected, peakRss: stats.memory.rssPeak, perConnectionRssKb: round(perConnectionRss / 1024, 1) },
          cpu: {
            machineBusy: boxBusy,
            hostUtilisation: round((stats.cpu.userMs + stats.cpu.systemMs) / stats.cpu.wallMs, 2),
            hostCpuMsPerMessage: round((stats.cpu.userMs + stats.cpu.systemMs) / Math.max(1, stats.matched), 2),
            emulatorAndLoadCpuMsPerMessage: round((parent.user + parent.system) / 1000 / Math.max(1, deliveredAt.length), 2),
          },
          latency: summarize(stats.latencies),
          sweep: windows.map((window) => ({
            rate: window.loadRate,
            seconds: window.loadSeconds,
            matched: window.stats.matched,
            latency: summarize(window.stats.latencies),
            sdkCpuMsPerMessage: round(window.sdkCpuMsPerMessage, 2),
            transactionsPerMessage: window.transactionsPerMessage === null ? null : round(window.transactionsPerMessage, 2),
            databaseCpuMsPerMessage: window.databaseCpuMsPerMessage === null ? null : round(window.databaseCpuMsPerMessage, 2),
            machineBusy: window.boxBusy,
            drainSeconds: round(window.drainSeconds, 1),
          })),
        },
      };
    } finally {
      await rig.close();
    }
  },
};
