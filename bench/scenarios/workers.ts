// 9. Scale-out on BullMQ (issue 11): the same backlog of sync jobs drained by one worker process
// and by two. A web-only instance (runWorker: false) receives the pushes and queues one sync job
// per mailbox in Redis. N worker processes sharing the PostgreSQL store and the queue first drain
// a warm-up backlog of the same size (untimed: a fresh process's JIT, pool connections and first
// look-ups are what long-lived workers pay once); then, with the queue paused, the timed backlog is
// queued, and the clock runs from the queue's resume until every message is matched.
import { randomBytes } from 'node:crypto';
import { connect as connectTcp } from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { generateSealingKey } from '@threadlink/core';
import { mapWithConcurrency } from '@threadlink/core/provider';
import { defaultEngineOptions } from '@threadlink/core/testing';
import type { HostConfig, StoreSpec } from '../host/protocol.js';
import { benchSchema, committedTransactions, databaseUrl, dropSchema } from '../lib/database.js';
import { startHost, type Host } from '../lib/host-client.js';
import { gmailOptions, gmailShapesFrom, pushTo, rawGmail, startGoogle } from '../lib/providers.js';
import { clientAddress, DEFAULT_CRM, sleep } from '../lib/rig.js';
import { machineCpu } from '../lib/cpu.js';
import { figure, type Scenario } from '../lib/scenario.js';
import { round, summarize } from '../lib/stats.js';

const RTT_MS = 20;

/** A Redis PING over a bare socket: is the server there at all? */
function redisAnswers(url: string, timeoutMs = 5_000): Promise<boolean> {
  const parsed = new URL(url);
  return new Promise((resolve) => {
    const socket = connectTcp({ host: parsed.hostname, port: Number(parsed.port || 6379) });
    const done = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(/^\+PONG|^-NOAUTH/.test(data.toString())));
  });
}

/** The part of each round's drain the "middle" figures cover: from 20 % to 80 % of the backlog matched. */
const MIDDLE = [0.2, 0.8] as const;

interface MiddleOfDrain {
  /** Messages matched between the two marks ÷ the time between them (from every worker's match times). */
  perSecond: number;
  /** Each worker's CPU (user + system) between the two CPU snapshots ÷ the messages it matched meanwhile. */
  cpuMsPerMessage: number[];
}

async function cpuMarks(workers: Host[]): Promise<Array<{ matched: number; cpuMs: number }>> {
  return (await Promise.all(workers.map((worker) => worker.stats()))).map((stats) => ({
    matched: stats.matched,
    cpuMs: stats.cpu.userMs + stats.cpu.systemMs,
  }));
}

/** The middle of a drain from the team's match times (epoch ms) and its two CPU snapshots. */
function middleOfDrain(matchedTimes: number[], marks: Array<Array<{ matched: number; cpuMs: number }>>): MiddleOfDrain | null {
  const [first, second] = marks;
  const times = [...matchedTimes].sort((left, right) => left - right);
  const from = Math.floor(MIDDLE[0] * times.length);
  const to = Math.ceil(MIDDLE[1] * times.length) - 1;
  if (!first || !second || to <= from) return null;
  const span = ((times[to] as number) - (times[from] as number)) / 1000;
  const cpuMsPerMessage = second.flatMap((end, index) => {
    const start = first[index];
    const matched = end.matched - (start?.matched ?? 0);
    return start && matched > 0 ? [round((end.cpuMs - start.cpuMs) / matched, 2)] : [];
  });
  return span > 0 ? { perSecond: round((to - from) / span, 1), cpuMsPerMessage } : null;
}

async function totalMatched(workers: Host[]): Promise<number> {
  const counts = await Promise.all(workers.map((worker) => worker.counts()));
  return counts.reduce((sum, count) => sum + count.matched, 0);
}

export const workers: Scenario = {
  name: 'workers',
  title: 'BullMQ: sync throughput of 1 vs 2 worker processes on Redis + PostgreSQL',
  budget: { full: 60, quick: 25 },
  async run(context) {
    const redisUrl = process.env.REDIS_URL;
    const postgresUrl = databaseUrl();
    const settings = { rttMs: RTT_MS, engineConcurrencyPerWorker: defaultEngineOptions.concurrency };
    if (!redisUrl) return { figures: [], settings, skipped: 'REDIS_URL is unset: the BullMQ scenario needs Redis (e.g. REDIS_URL=redis://127.0.0.1:6379).' };
    if (!postgresUrl)
      return { figures: [], settings, skipped: 'DATABASE_URL is unset: workers in separate processes need a shared PostgreSQL store (PGlite is per process).' };
    if (!(await redisAnswers(redisUrl))) return { figures: [], settings, skipped: `Redis at ${new URL(redisUrl).host} does not answer; skipped.` };

    const mailboxes = context.quick ? 60 : 300;
    const rounds = context.quick ? [1, 2] : [1, 2, 1, 2];
    const store: StoreSpec = { kind: 'postgres', url: postgresUrl, schema: benchSchema(), poolMax: 10 };
    const queue = { kind: 'bullmq' as const, url: redisUrl, name: `bench-${randomBytes(4).toString('hex')}` };
    const google = await startGoogle({ latencyMs: 0 });
    const sealingKey = generateSealingKey();
    const config = (label: string, runWorker: boolean): HostConfig => ({
      label,
      gmail: gmailOptions(google),
      store,
      queue,
      runWorker,
      crm: DEFAULT_CRM,
      sealingKey,
    });
    const hosts: Host[] = [];
    const closers: Array<() => Promise<void>> = [];
    try {
      const web = await startHost(config('web', false), { google });
      hosts.push(web);
      pushTo(google, web);
      // Connect every mailbox with one worker running (back-fill and first pulls), then stop it.
      const setupWorker = await startHost(config('setup-worker', true), { google });
      hosts.push(setupWorker);
      const emails = Array.from({ length: mailboxes }, (_, index) => `worker${index}@acme.example`);
      await mapWithConcurrency(emails, 16, async (email) => {
        google.addMailbox({ email });
        return web.connect('gmail', email);
      });
      await google.flushNotifications();
      await web.idle();
      await setupWorker.stop();
      context.log(`${mailboxes} mailboxes connected`);

      google.faults.latencyMs = RTT_MS;
      const floors: number[] = [];

      const throughput = new Map<number, number[]>([
        [1, []],
        [2, []],
      ]);
      let roundNumber = 0;
      const perRound: Array<{
        workers: number;
        matched: number;
        seconds: number;
        /** The untimed warm-up drain before the timed one (same team, same size, pushes arriving meanwhile). */
        warmUpSeconds: number;
        machineBusy: number;
        /** The team's PostgreSQL transactions and Redis commands over the timed drain, per message matched. */
        perMessage: { transactions: number | null; redisCommands: number };
        /** Per worker process: its own CPU (user + system) per message it matched, and its share. */
        perWorker: Array<{ matched: number; cpuMs: number; cpuMsPerMessage: number; coreUtilisation: number }>;
        /** The middle 60 % of the drain (see middleOfDrain); null when a mark was not reached. */
        middle: MiddleOfDrain | null;
      }> = [];
      const cpuPerMessage = new Map<number, number[]>([
        [1, []],
        [2, []],
      ]);
      const middleThroughput = new Map<number, number[]>([
        [1, []],
        [2, []],
      ]);
      const middleCpu = new Map<number, number[]>([
        [1, []],
        [2, []],
      ]);
      const workPerMessage = new Map<number, Array<{ transactions: number | null; redisCommands: number }>>([
        [1, []],
        [2, []],
      ]);
      // The bench's own handle on the shared BullMQ queue: paused while a timed backlog is queued.
      const control = new Queue(queue.name, { connection: new Redis(redisUrl, { maxRetriesPerRequest: null }), prefix: 'bull' });
      const statsClient = new Redis(redisUrl);
      closers.push(
        () => control.close(),
        async () => void statsClient.disconnect(),
      );
      const deliverOneEach = async (tag: number, subject: (index: number) => string): Promise<void> => {
        const before = (await web.counts()).notifications;
        for (const [index, email] of emails.entries()) {
          await google.deliver({ to: email, from: clientAddress(tag * 1_000 + index), subject: subject(index), text: 'x' });
        }
        await google.flushNotifications();
        for (let wait = 0; wait < 200 && (await web.counts()).notifications - before < mailboxes; wait += 1) await sleep(50);
      };
      /** Commands Redis has processed so far (INFO stats), whoever sent them. */
      const redisCommands = async (): Promise<number> => {
        const info = await statsClient.info('stats');
        return Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? Number.NaN);
      };
      const drained = async (team: Host[], deadline: number): Promise<void> => {
        while ((await totalMatched(team)) < mailboxes && performance.now() < deadline) await sleep(20);
      };
      for (const count of rounds) {
        roundNumber += 1;
        const team = await Promise.all(Array.from({ length: count }, (_, index) => startHost(config(`worker-${roundNumber}-${index}`, false), { google })));
        hosts.push(...team);
        // Warm-up, untimed: the team drains one message per mailbox, as long-lived workers would have.
        await Promise.all(team.map((worker) => worker.startWorker()));
        const warmUpStarted = performance.now();
        await deliverOneEach(roundNumber * 2, (index) => `PRJ-${10_000 + index} warm-up ${roundNumber}`);
        await drained(team, performance.now() + 60_000);
        const warmUpSeconds = (performance.now() - warmUpStarted) / 1000;
        await web.idle();
        // The timed backlog waits in the paused queue until every push is in.
        await control.pause();
        await deliverOneEach(roundNumber * 2 + 1, (index) => `PRJ-${10_000 + index} round ${roundNumber}`);
        await Promise.all(team.map((worker) => worker.resetStats()));
        const work = { transactions: await committedTransactions(store), redis: await redisCommands() };
        const box = machineCpu();
        const started = performance.now();
        await control.resume();
        const deadline = started + 60_000;
        // CPU snapshots when the team has matched 20 % and 80 % of the backlog: the middle of the
        // drain, without its ramp (every worker taking its first jobs at once) or the tail in which
        // one worker finishes the last jobs while the other has none left.
        const marks: Array<Array<{ matched: number; cpuMs: number }>> = [];
        const markAt = [MIDDLE[0] * mailboxes, MIDDLE[1] * mailboxes];
        for (let matchedNow = 0; matchedNow < mailboxes && performance.now() < deadline; matchedNow = await totalMatched(team)) {
          if (marks.length < markAt.length && matchedNow >= (markAt[marks.length] as number)) marks.push(await cpuMarks(team));
          else await sleep(20);
        }
        const seconds = (performance.now() - started) / 1000;
        const machineBusy = box.stop();
        const matched = await totalMatched(team);
        // The work the team did per message, machine-independent: if it stays flat from one worker
        // to two while CPU per message rises, the rise is the shared machine, not extra engine work.
        const transactionsAfter = await committedTransactions(store);
        const perMessage = {
          transactions:
            transactionsAfter === null || work.transactions === null ? null : round((transactionsAfter - work.transactions) / Math.max(1, matched), 2),
          redisCommands: round(((await redisCommands()) - work.redis) / Math.max(1, matched), 2),
        };
        workPerMessage.get(count)?.push(perMessage);
        throughput.get(count)?.push(matched / seconds);
        const perWorker = (await Promise.all(team.map((worker) => worker.stats()))).map((stats) => {
          const cpuMs = stats.cpu.userMs + stats.cpu.systemMs;
          return {
            matched: stats.matched,
            cpuMs: round(cpuMs, 0),
            cpuMsPerMessage: round(cpuMs / Math.max(1, stats.matched), 2),
            coreUtilisation: round(cpuMs / Math.max(1, seconds * 1_000), 2),
          };
        });
        for (const worker of perWorker) cpuPerMessage.get(count)?.push(worker.cpuMsPerMessage);
        const middle = middleOfDrain(
          (await Promise.all(team.map((worker) => worker.stats()))).flatMap((stats) => stats.matchedTimes),
          marks,
        );
        if (middle) {
          middleThroughput.get(count)?.push(middle.perSecond);
          middleCpu.get(count)?.push(...middle.cpuMsPerMessage);
        }
        perRound.push({
          workers: count,
          matched,
          seconds: round(seconds, 2),
          warmUpSeconds: round(warmUpSeconds, 2),
          machineBusy,
          perMessage,
          perWorker,
          middle,
        });
        const errors = (await Promise.all(team.map((worker) => worker.counts()))).map((counts) => counts.syncErrors);
        context.log(
          `round ${roundNumber}: ${count} worker(s) matched ${matched} in ${seconds.toFixed(2)} s, machine ${Math.round(machineBusy * 100)} % busy, ${perMessage.transactions} transactions and ${perMessage.redisCommands} Redis commands per message, per worker ${perWorker.map((worker) => `${worker.matched} msgs at ${worker.cpuMsPerMessage} ms CPU each (${worker.coreUtilisation} of a core)`).join(', ')}${errors.some((entry) => Object.keys(entry).length > 0) ? `, errors ${JSON.stringify(errors)}` : ''}`,
        );
        await web.idle();
        if (floors.length === 0) {
          // The floor: the same two requests a sync job's pull made, by a bare client, timed alone.
          const raw = await rawGmail(google, emails[0] as string, await gmailShapesFrom(team[0] as Host, google));
          for (let sample = 0; sample < 10; sample += 1) {
            await google.deliver({ to: emails[0] as string, from: clientAddress(sample), subject: 'floor probe', text: 'x' });
            floors.push((await raw.pull()).ms);
          }
          await web.idle();
        }
        await Promise.all(team.map((worker) => worker.stop()));
      }
      const one = throughput.get(1) ?? [];
      const two = throughput.get(2) ?? [];
      const jobCeiling = floors.map((ms) => (defaultEngineOptions.concurrency * 1_000) / ms);
      return {
        figures: [
          figure({
            name: '1 worker: sync jobs drained',
            unit: 'msg/s',
            better: 'higher',
            samples: one,
            limit: { name: `${defaultEngineOptions.concurrency} concurrent jobs ÷ (history.list + messages.get)`, samples: jobCeiling },
          }),
          figure({
            name: '2 workers: sync jobs drained',
            unit: 'msg/s',
            better: 'higher',
            samples: two,
            limit: { name: '2 × one worker (linear scaling)', samples: one.map((value) => value * 2) },
          }),
          figure({
            name: '2 workers: CPU per message, each worker process',
            unit: 'ms',
            better: 'lower',
            samples: cpuPerMessage.get(2) ?? [],
            limit: { name: 'one worker alone', samples: cpuPerMessage.get(1) ?? [] },
          }),
          figure({
            name: '2 workers, middle 60 % of the backlog: sync jobs drained',
            unit: 'msg/s',
            better: 'higher',
            samples: middleThroughput.get(2) ?? [],
            limit: { name: '2 × one worker over the same part (linear scaling)', samples: (middleThroughput.get(1) ?? []).map((value) => value * 2) },
            targets: [{ of: 'ratio.median', op: '>=', value: 0.8, text: '≥ 1.6× one worker (0.8 of linear) where the box has CPU' }],
          }),
          figure({
            name: '2 workers, middle 60 % of the backlog: CPU per message, each worker process',
            unit: 'ms',
            better: 'lower',
            samples: middleCpu.get(2) ?? [],
            limit: { name: 'one worker alone, same part', samples: middleCpu.get(1) ?? [] },
          }),
          figure({
            name: '2 workers: Redis commands per message',
            unit: 'commands',
            better: 'lower',
            samples: (workPerMessage.get(2) ?? []).map((entry) => entry.redisCommands),
            limit: { name: 'one worker alone', samples: (workPerMessage.get(1) ?? []).map((entry) => entry.redisCommands) },
          }),
          ...(store.kind === 'postgres' && (workPerMessage.get(1) ?? []).every((entry) => entry.transactions !== null)
            ? [
                figure({
                  name: '2 workers: PostgreSQL transactions per message',
                  unit: 'transactions',
                  better: 'lower',
                  samples: (workPerMessage.get(2) ?? []).flatMap((entry) => (entry.transactions === null ? [] : [entry.transactions])),
                  limit: {
                    name: 'one worker alone',
                    samples: (workPerMessage.get(1) ?? []).flatMap((entry) => (entry.transactions === null ? [] : [entry.transactions])),
                  },
                }),
              ]
            : []),
        ],
        settings: { ...settings, mailboxes, rounds, store: 'postgres (shared schema)', queue: 'bullmq on REDIS_URL' },
        notes: [
          `Each round: fresh worker processes first drain a warm-up backlog (${mailboxes} mailboxes, one message each, untimed: a fresh process's JIT, pool connections and first look-ups are paid once by a long-lived worker, and in a drain this short they were a third of its CPU). Then, with the BullMQ queue paused, the same mailboxes receive one message each and the web instance (runWorker: false) verifies the pushes and queues ${mailboxes} sync jobs; the clock runs from the queue's resume to the last message.matched.`,
          `Every process shares this ${os.cpus().length}-core machine with PostgreSQL, Redis and the emulator: the whole machine was ${perRound.map((entry) => `${Math.round(entry.machineBusy * 100)} %`).join(' / ')} busy during the rounds (${rounds.join(' / ')} workers). A second worker can only add throughput where the CPUs have room.`,
          'Work per message (details.perRound[].perMessage): the PostgreSQL transactions (pg_stat_database.xact_commit) and Redis commands (INFO total_commands_processed) of the timed drain, whoever made them, per message matched. The same work per message from one worker to two, with more CPU per message, is the shared machine (two busy cores), not more engine work.',
          `Per-worker CPU (details.perRound[].perWorker): each worker process's own user + system CPU over the round, per message it matched, and the fraction of one core it used. When a worker's CPU per message stays flat from one worker to two while the machine is ≥ 90 % busy and each worker uses well under a core, the limit is the machine (CPU shared with PostgreSQL, Redis, the emulator and other work), not the engine.`,
        ],
        details: {
          perRound,
          one: summarize(one),
          two: summarize(two),
          speedup: round(summarize(two).median / summarize(one).median, 2),
          middleSpeedup: round(summarize(middleThroughput.get(2) ?? []).median / summarize(middleThroughput.get(1) ?? []).median, 2),
          floorMs: summarize(floors),
        },
      };
    } finally {
      for (const close of closers) await close();
      for (const host of hosts) await host.stop();
      await google.close();
      await dropSchema(store);
    }
  },
};
