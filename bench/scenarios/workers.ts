// 9. Scale-out on BullMQ (issue 11): the same backlog of sync jobs drained by one worker process
// and by two. A web-only instance (runWorker: false) receives the pushes and queues one sync job
// per mailbox in Redis; then N worker processes sharing the PostgreSQL store and the queue start
// at the same moment and the clock runs until every message is matched.
import { randomBytes } from 'node:crypto';
import { connect as connectTcp } from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { generateSealingKey } from '@threadlink/core';
import { mapWithConcurrency } from '@threadlink/core/provider';
import { defaultEngineOptions } from '@threadlink/core/testing';
import type { HostConfig, StoreSpec } from '../host/protocol.js';
import { benchSchema, databaseUrl, dropSchema } from '../lib/database.js';
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
        machineBusy: number;
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
      for (const count of rounds) {
        roundNumber += 1;
        const team = await Promise.all(Array.from({ length: count }, (_, index) => startHost(config(`worker-${roundNumber}-${index}`, false), { google })));
        hosts.push(...team);
        const before = (await web.counts()).notifications;
        for (const [index, email] of emails.entries()) {
          await google.deliver({
            to: email,
            from: clientAddress(roundNumber * 1_000 + index),
            subject: `PRJ-${10_000 + index} round ${roundNumber}`,
            text: 'x',
          });
        }
        await google.flushNotifications();
        for (let wait = 0; wait < 200 && (await web.counts()).notifications - before < mailboxes; wait += 1) await sleep(50);
        await Promise.all(team.map((worker) => worker.resetStats()));
        const box = machineCpu();
        const started = performance.now();
        await Promise.all(team.map((worker) => worker.startWorker()));
        const deadline = started + 60_000;
        // CPU snapshots when the team has matched 20 % and 80 % of the backlog: the middle of the
        // drain, without each fresh process's first jobs (JIT, first connections) or the tail in
        // which one worker finishes the last jobs while the other has none left.
        const marks: Array<Array<{ matched: number; cpuMs: number }>> = [];
        const markAt = [MIDDLE[0] * mailboxes, MIDDLE[1] * mailboxes];
        for (let matchedNow = 0; matchedNow < mailboxes && performance.now() < deadline; matchedNow = await totalMatched(team)) {
          if (marks.length < markAt.length && matchedNow >= (markAt[marks.length] as number)) marks.push(await cpuMarks(team));
          else await sleep(20);
        }
        const seconds = (performance.now() - started) / 1000;
        const machineBusy = box.stop();
        const matched = await totalMatched(team);
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
        perRound.push({ workers: count, matched, seconds: round(seconds, 2), machineBusy, perWorker, middle });
        const errors = (await Promise.all(team.map((worker) => worker.counts()))).map((counts) => counts.syncErrors);
        context.log(
          `round ${roundNumber}: ${count} worker(s) matched ${matched} in ${seconds.toFixed(2)} s, machine ${Math.round(machineBusy * 100)} % busy, per worker ${perWorker.map((worker) => `${worker.matched} msgs at ${worker.cpuMsPerMessage} ms CPU each (${worker.coreUtilisation} of a core)`).join(', ')}${errors.some((entry) => Object.keys(entry).length > 0) ? `, errors ${JSON.stringify(errors)}` : ''}`,
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
        ],
        settings: { ...settings, mailboxes, rounds, store: 'postgres (shared schema)', queue: 'bullmq on REDIS_URL' },
        notes: [
          `Each round: ${mailboxes} mailboxes receive one message each; the web instance (runWorker: false) verifies the pushes and queues ${mailboxes} sync jobs; then the worker processes start together and the clock stops at the last message.matched. Worker start-up (process, modules) is not timed.`,
          `Every process shares this ${os.cpus().length}-core machine with PostgreSQL, Redis and the emulator: the whole machine was ${perRound.map((entry) => `${Math.round(entry.machineBusy * 100)} %`).join(' / ')} busy during the rounds (${rounds.join(' / ')} workers). A second worker can only add throughput where the CPUs have room.`,
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
      for (const host of hosts) await host.stop();
      await google.close();
      await dropSchema(store);
    }
  },
};
