// 8. Baseline: what many CRMs ship — a naive poller that lists each mailbox every 5 minutes and
// fetches what it has not seen — side by side with push, for latency and for the quota 1,000 idle
// mailboxes cost per hour.
//
// How the hourly figures are computed: every periodic operation is run for real against the
// emulator on an idle mailbox and its quota units are read from the request log (push: the
// safety-net pull, the watch renewal, the reconciliation; poller: one poll). Each is multiplied
// by how often it happens per hour and by 1,000 mailboxes. Push: the cadence the engine settles
// into for a mailbox that stays idle (idle-cadence.ts, proven with a fake clock by the Gmail test
// spaces-idle-pulls-by-evidence): a safety-net pull every safetyNetMaxPullMs once the mailbox has
// been quiet for an hour, a reconciliation every fullResyncMaxIntervalMs once five in a row found
// nothing to fix (the first month's average is reported beside it), renewal when the engine renews
// a watch whose push works (renewalMarginMs before its 7-day expiry, idle-cadence.ts); poller: 12 polls an hour. Access-token refreshes (0 units, one call an
// hour per mailbox) are the same for both and left out.
//
// The mailbox-size sweep (200 / 10,000 / 50,000 messages): a reconciliation lists ids only, so its
// cost is a fixed part (the profile read, the pull after it) plus one messages.list call per page
// of ids. Both are measured from the request log on the seeded mailbox (a few hundred messages);
// larger mailboxes are scaled by the page count at messages.list's documented maximum of 500 ids
// per page, not created (seeding 50,000 messages through the emulator would take minutes). Each
// size's reconciliation interval is the engine's own (idle-cadence.ts reconciliationIntervalMs):
// `reconciliationIdsPerDay` (1,000 ids a day by default) stretches a large mailbox's interval with
// its size — every 50 days at 50,000 messages — so its idle cost stays flat; its first month is
// simulated with the same function, from a back-fill of that many messages.
import { performance } from 'node:perf_hooks';
import { defaultEngineOptions, reconciliationIntervalMs, renewalDueAt } from '@threadlink/core/testing';
import { rawGmail } from '../lib/providers.js';
import { clientAddress, sleep, startRig, type Rig } from '../lib/rig.js';
import { figure, type Figure, type Scenario } from '../lib/scenario.js';
import { round, summarize } from '../lib/stats.js';

const RTT_MS = 20;
const POLL_INTERVAL_S = 300;
const MAILBOXES = 1_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** messages.list's maximum page (developers.google.com/workspace/gmail/api/reference/rest/v1/users.messages/list). */
const IDS_PER_LIST_PAGE = 500;
/** Gmail's per-project quota: 1,200,000 units per minute (developers.google.com/workspace/gmail/api/reference/quota). */
const PROJECT_UNITS_PER_DAY = 1_200_000 * 60 * 24;
const SWEEP_SIZES = [200, 10_000, 50_000];
/** An idle mailbox's safety-net interval once it has been quiet for an hour (10, 20, then 30 min). */
const SAFETY_NET_EVERY_MS = defaultEngineOptions.safetyNetMaxPullMs;
/** An idle mailbox's reconciliation interval once its listings have agreed for a month, at 200 messages. */
const RECONCILE_EVERY_MS = defaultEngineOptions.fullResyncMaxIntervalMs;
const FIRST_MONTH_MS = 32 * DAY;

function idleHealth(lastFullSyncAt: number | null, reconciledIds: number | null) {
  return {
    lastPushAt: null,
    lastSyncAt: null,
    lastFullSyncAt,
    newestChangeAt: null,
    consecutiveErrors: 0,
    lastErrorCode: null,
    lastErrorAt: null,
    reconciledIds,
  };
}

/** The engine's reconciliation interval for an idle mailbox of `size` messages whose listings have long agreed. */
function reconcileEveryMs(size: number): number {
  return reconciliationIntervalMs({ createdAt: 0, health: idleHealth(400 * DAY, size), backfill: { done: size } }, defaultEngineOptions);
}

/** Reconciliations in the first 32 days after connecting a mailbox of `size` messages (200: days 1, 2, 4, 8, 16 and 32). */
function firstMonthReconciliations(size: number): number {
  let last: number | null = null;
  let count = 0;
  for (;;) {
    const due: number =
      (last ?? 0) +
      reconciliationIntervalMs({ createdAt: 0, health: idleHealth(last, last === null ? null : size), backfill: { done: size } }, defaultEngineOptions);
    if (due > FIRST_MONTH_MS) return count;
    last = due;
    count += 1;
  }
}

interface ResyncCost {
  /** Units of the resync that do not depend on the mailbox's size. */
  fixedUnits: number;
  listCalls: number;
  listUnits: number;
  /** messages.get calls (batch parts included): 0 when everything is stored. */
  reads: number;
}

function resyncCostOf(rig: Rig, mailbox: string, from: number): ResyncCost {
  const entries = rig
    .log('gmail')
    .entries.slice(from)
    .filter((entry) => entry.mailbox === mailbox);
  const list = entries.filter((entry) => entry.operation === 'messages.list');
  const listUnits = list.reduce((sum, entry) => sum + entry.units, 0);
  const total = entries.reduce((sum, entry) => sum + entry.units, 0);
  const reads = entries.filter((entry) => entry.operation === 'messages.get').length;
  return { fixedUnits: total - listUnits, listCalls: list.length, listUnits, reads };
}

function unitsOf(rig: Rig, mailbox: string): number {
  return rig
    .log('gmail')
    .entries.filter((entry) => entry.mailbox === mailbox)
    .reduce((sum, entry) => sum + entry.units, 0);
}

function callsOf(rig: Rig, mailbox: string): number {
  return rig.log('gmail').entries.filter((entry) => entry.mailbox === mailbox && entry.operation !== 'batch').length;
}

async function seed(rig: Rig, mailbox: string, count: number): Promise<void> {
  for (let index = 0; index < count; index += 1) {
    await rig.deliver('gmail', {
      to: mailbox,
      from: clientAddress(index),
      subject: `Older mail ${index}`,
      date: new Date(Date.now() - (count - index) * 3_600_000),
    });
  }
}

/** Runs `operation` and returns the units and quota-counted calls it cost the mailbox. */
async function cost(rig: Rig, mailbox: string, operation: () => Promise<unknown>): Promise<{ units: number; calls: number }> {
  const units = unitsOf(rig, mailbox);
  const calls = callsOf(rig, mailbox);
  await operation();
  await rig.host.idle();
  return { units: unitsOf(rig, mailbox) - units, calls: callsOf(rig, mailbox) - calls };
}

export const baseline: Scenario = {
  name: 'baseline',
  title: 'Baseline: a naive 5-minute poller vs push — latency and quota units/hour for 1,000 idle mailboxes',
  budget: { full: 30, quick: 12 },
  async run(context) {
    const mailboxSize = context.quick ? 60 : 200;
    // Messages arrive one at a time here, so Gmail's one-push-per-second window never folds two;
    // it is turned off only to save the waits between samples.
    const rig = await startRig({ providers: ['gmail'], label: 'baseline', latencyMs: RTT_MS, store: { kind: 'memory' }, notificationIntervalMs: 0 });
    try {
      // ---- push: an idle connected mailbox -------------------------------------------------
      const pushed = 'idle.push@acme.example';
      rig.addMailbox('gmail', pushed);
      await seed(rig, pushed, mailboxSize);
      const connection = await rig.host.connect('gmail', pushed);
      for (let wait = 0; wait < 600 && !(await rig.host.timeline(connection.connectionId))?.backfillDoneAt; wait += 1) await sleep(100);
      await rig.google!.flushNotifications();
      await rig.host.idle();
      const safetyNet: number[] = [];
      for (let run = 0; run < (context.quick ? 3 : 5); run += 1)
        safetyNet.push((await cost(rig, pushed, () => rig.host.operate('sync', connection.connectionId))).units);
      const renewals: number[] = [];
      for (let run = 0; run < (context.quick ? 2 : 3); run += 1)
        renewals.push((await cost(rig, pushed, () => rig.host.operate('renew', connection.connectionId))).units);
      await rig.google!.flushNotifications();
      await rig.host.idle();
      const resyncs: number[] = [];
      const resyncMark = rig.log('gmail').entries.length;
      for (let run = 0; run < 1; run += 1) resyncs.push((await cost(rig, pushed, () => rig.host.operate('resync', connection.connectionId))).units);
      const resyncCost = resyncCostOf(rig, pushed, resyncMark);
      // When the engine renews the watch of a mailbox whose push works (idle-cadence.ts): a margin
      // before it expires, not at the adapter's daily renewAt.
      const health = {
        lastPushAt: null,
        lastSyncAt: connection.connectedAt,
        lastFullSyncAt: null,
        newestChangeAt: null,
        consecutiveErrors: 0,
        lastErrorCode: null,
        lastErrorAt: null,
      };
      const renewEveryMs = connection.subscription
        ? renewalDueAt({ createdAt: connection.connectedAt, health }, connection.subscription, defaultEngineOptions) - connection.connectedAt
        : 24 * HOUR;

      // Push latency, end to end: delivery to stored (the Pub/Sub push included).
      const pushLatency: number[] = [];
      for (let sample = 0; sample < (context.quick ? 3 : 8); sample += 1) {
        const deliveredAt = Date.now();
        const id = await rig.deliver('gmail', { to: pushed, from: clientAddress(sample), subject: `PRJ-${10_000 + sample} question` });
        pushLatency.push((await rig.host.waitSynced(id)) - deliveredAt);
        await rig.host.idle();
      }

      // ---- the naive poller, on its own mailbox of the same size ----------------------------
      const polled = 'idle.poll@acme.example';
      rig.addMailbox('gmail', polled);
      await seed(rig, polled, mailboxSize);
      const poller = await rawGmail(rig.google!, polled);
      const seen = new Set((await poller.list(100)).ids);
      const poll = async (): Promise<{ found: string[]; ms: number }> => {
        const started = performance.now();
        const listed = await poller.list(100);
        const found = listed.ids.filter((id) => !seen.has(id));
        for (const id of found) {
          await poller.get(id);
          seen.add(id);
        }
        return { found, ms: performance.now() - started };
      };
      const idlePolls: number[] = [];
      for (let run = 0; run < (context.quick ? 3 : 5); run += 1) idlePolls.push((await cost(rig, polled, () => poll())).units);
      // Its latency, measured at a short interval and scaled to 5 minutes (arrivals are uniform
      // within an interval, so the wait scales with it; the poll itself does not).
      const shortIntervalMs = 1_000;
      const pollerLatency: number[] = [];
      const pollerSamples = context.quick ? 3 : 8;
      for (let sample = 0; sample < pollerSamples; sample += 1) {
        // Arrival times spread evenly over the interval (stratified), so few samples still cover it.
        const offset = ((sample + 0.5) / pollerSamples) * shortIntervalMs;
        await sleep(offset);
        const deliveredAt = performance.now();
        const id = await rig.deliver('gmail', { to: polled, from: clientAddress(sample), subject: `PRJ-${10_000 + sample} question` });
        await sleep(shortIntervalMs - offset);
        const result = await poll();
        if (!result.found.includes(id)) continue;
        const waited = performance.now() - deliveredAt - result.ms;
        pollerLatency.push((waited / shortIntervalMs) * POLL_INTERVAL_S * 1_000 + result.ms);
      }

      // ---- per hour, 1,000 idle mailboxes ----------------------------------------------------
      const perHour = (units: number, everyMs: number): number => (units * HOUR) / everyMs;
      const pushHour = (safetyNetUnits: number, renewUnits: number, resyncUnits: number): number =>
        MAILBOXES *
        (perHour(safetyNetUnits, SAFETY_NET_EVERY_MS) +
          perHour(renewUnits, renewEveryMs) +
          (reconcileEveryMs(mailboxSize) > 0 ? perHour(resyncUnits, reconcileEveryMs(mailboxSize)) : 0));
      const safetyNetMedian = summarize(safetyNet).median;
      const renewMedian = summarize(renewals).median;
      const resyncMedian = summarize(resyncs).median;
      const pushUnits = pushHour(safetyNetMedian, renewMedian, resyncMedian);
      const pushUnitsWithoutResync = pushHour(safetyNetMedian, renewMedian, 0);
      const pollerUnits = idlePolls.map((units) => MAILBOXES * perHour(units, POLL_INTERVAL_S * 1_000));
      context.log(
        `push ${Math.round(pushUnits)} units/h (safety net ${safetyNetMedian}, renew ${renewMedian}, resync ${resyncMedian}); poller ${Math.round(summarize(pollerUnits).median)} units/h`,
      );

      // ---- mailbox-size sweep: daily units per idle mailbox -----------------------------------
      const unitsPerListPage = resyncCost.listCalls > 0 ? resyncCost.listUnits / resyncCost.listCalls : 0;
      const perDay = (units: number, everyMs: number): number => (units * DAY) / everyMs;
      const pollerDay = perDay(summarize(idlePolls).median, POLL_INTERVAL_S * 1_000);
      const sweep = SWEEP_SIZES.map((size) => {
        const resyncUnits = resyncCost.fixedUnits + Math.ceil(size / IDS_PER_LIST_PAGE) * unitsPerListPage;
        const idleDay = perDay(safetyNetMedian, SAFETY_NET_EVERY_MS) + perDay(renewMedian, renewEveryMs);
        const everyMs = reconcileEveryMs(size);
        const pushDay = idleDay + (everyMs > 0 ? perDay(resyncUnits, everyMs) : 0);
        const firstMonth = firstMonthReconciliations(size);
        const firstMonthDay = idleDay + perDay(resyncUnits * firstMonth, FIRST_MONTH_MS);
        return {
          size,
          reconcileEveryDays: round(everyMs / DAY, 1),
          firstMonthReconciliations: firstMonth,
          resyncUnits,
          resyncUnitsPerMessage: resyncUnits / size,
          pushDay,
          firstMonthDay,
          mailboxesPerProject: Math.floor(PROJECT_UNITS_PER_DAY / pushDay),
        };
      });
      for (const row of sweep) {
        context.log(
          `mailbox of ${row.size}: resync ${round(row.resyncUnits, 1)} units (${round(row.resyncUnitsPerMessage, 4)}/message) every ${row.reconcileEveryDays} days (${row.firstMonthReconciliations} in the first month), push ${Math.round(row.pushDay)} units/day (first month ${Math.round(row.firstMonthDay)}) vs poller ${Math.round(pollerDay)}; ${row.mailboxesPerProject.toLocaleString('en-US')} such mailboxes per project quota`,
        );
      }

      const figures: Figure[] = [
        figure({
          name: 'push: delivery → stored',
          unit: 'ms',
          better: 'lower',
          samples: pushLatency,
          limit: { name: 'naive 5-min poller', samples: pollerLatency },
        }),
        figure({
          name: `push: quota units/h, ${MAILBOXES.toLocaleString('en-US')} idle mailboxes of ${mailboxSize}`,
          unit: 'units/h',
          better: 'lower',
          samples: [pushUnits],
          limit: { name: 'naive 5-min poller', samples: pollerUnits },
        }),
        figure({
          name: 'push without reconciliations',
          unit: 'units/h',
          better: 'lower',
          samples: [pushUnitsWithoutResync],
          limit: { name: 'naive 5-min poller', samples: pollerUnits },
        }),
        ...sweep.map((row) =>
          figure({
            name: `push: quota units/day, one idle mailbox of ${row.size.toLocaleString('en-US')}`,
            unit: 'units/day',
            better: 'lower',
            samples: [row.pushDay],
            limit: { name: 'naive 5-min poller', samples: [pollerDay] },
            targets: [{ of: 'ratio.median' as const, op: '<=' as const, value: 0.25, text: '≤ 0.25× the poller' }],
          }),
        ),
        figure({
          name: `push: idle quota units/day, mailbox of ${SWEEP_SIZES.at(-1)!.toLocaleString('en-US')} vs of ${SWEEP_SIZES[0]!.toLocaleString('en-US')}`,
          unit: 'units/day',
          better: 'lower',
          samples: [sweep.at(-1)!.pushDay],
          limit: { name: `mailbox of ${SWEEP_SIZES[0]!.toLocaleString('en-US')}`, samples: [sweep[0]!.pushDay] },
          targets: [{ of: 'ratio.median' as const, op: '<=' as const, value: 1.1, text: 'flat: within 10 %' }],
        }),
        ...sweep.map((row) =>
          figure({
            name: `push, first month after connecting: quota units/day, one idle mailbox of ${row.size.toLocaleString('en-US')}`,
            unit: 'units/day',
            better: 'lower',
            samples: [row.firstMonthDay],
            limit: { name: 'naive 5-min poller', samples: [pollerDay] },
          }),
        ),
      ];
      const notes = [
        `Per idle mailbox: safety-net pull ${safetyNetMedian} units every ${SAFETY_NET_EVERY_MS / 60_000} min (${defaultEngineOptions.safetyNetPullMs / 60_000} min right after activity or a missed push), watch renewal ${renewMedian} units every ${round(renewEveryMs / HOUR, 1)} h, reconciliation ${resyncMedian} units every ${round(reconcileEveryMs(mailboxSize) / DAY, 1)} days (1, 2, 4, 8, 16 days apart in the first month, daily again after one finds drift; a mailbox over ${((defaultEngineOptions.reconciliationIdsPerDay * RECONCILE_EVERY_MS) / DAY).toLocaleString('en-US')} messages every size / ${defaultEngineOptions.reconciliationIdsPerDay.toLocaleString('en-US')} days, reconciliationIdsPerDay) (mailbox of ${mailboxSize} messages, all stored: ${resyncCost.listCalls} messages.list call(s) of ${round(unitsPerListPage, 1)} units, ${resyncCost.reads} messages read, ${round(resyncCost.fixedUnits, 1)} units besides the listing); poller ${summarize(idlePolls).median} units per poll, ${3_600 / POLL_INTERVAL_S} polls/h.`,
        'Poller latency: measured with a 1 s interval (arrivals spread evenly over it) and scaled to 5 minutes; the poll round trips are added unscaled.',
        `Gmail's per-project quota is 1,200,000 units/min (72M/h): the push figure is ${round((pushUnits / 72_000_000) * 100, 3)} % of it for ${MAILBOXES.toLocaleString('en-US')} mailboxes.`,
      ];
      notes.push(
        `Mailbox-size sweep: the resync is measured once on the ${mailboxSize}-message mailbox above (${round(resyncCost.fixedUnits, 1)} fixed units + ${round(unitsPerListPage, 1)} units per messages.list page) and scaled to ${SWEEP_SIZES.map((size) => size.toLocaleString('en-US')).join(' / ')} messages by the page count at ${IDS_PER_LIST_PAGE} ids per page; those mailboxes are not created. ` +
          sweep
            .map(
              (row) =>
                `${row.size.toLocaleString('en-US')}: resync ${round(row.resyncUnits, 1)} units (${round(row.resyncUnitsPerMessage, 4)} per message) every ${row.reconcileEveryDays} days (${row.firstMonthReconciliations} in the first month), push ${Math.round(row.pushDay).toLocaleString('en-US')} units/day vs the poller's ${Math.round(pollerDay).toLocaleString('en-US')}, ${row.mailboxesPerProject.toLocaleString('en-US')} such mailboxes within Google's per-project quota (${(PROJECT_UNITS_PER_DAY / 1e9).toFixed(3)}B units/day)`,
            )
            .join('; ') +
          '.',
      );
      if (pushUnits > summarize(pollerUnits).median) {
        notes.push('Push costs more quota than the naive poller here for idle mailboxes; see the per-operation units above.');
      }
      return {
        figures,
        settings: {
          rttMs: RTT_MS,
          pollIntervalSeconds: POLL_INTERVAL_S,
          mailboxes: MAILBOXES,
          mailboxSize,
          safetyNetPullMs: defaultEngineOptions.safetyNetPullMs,
          safetyNetMaxPullMs: defaultEngineOptions.safetyNetMaxPullMs,
          fullResyncIntervalMs: defaultEngineOptions.fullResyncIntervalMs,
          fullResyncMaxIntervalMs: defaultEngineOptions.fullResyncMaxIntervalMs,
          reconciliationIdsPerDay: defaultEngineOptions.reconciliationIdsPerDay,
        },
        notes,
        details: {
          safetyNetUnits: safetyNet,
          renewUnits: renewals,
          resyncUnits: resyncs,
          pollUnits: idlePolls,
          renewEveryHours: round(renewEveryMs / HOUR, 2),
          resyncCost,
          sweep,
        },
      };
    } finally {
      await rig.close();
    }
  },
};
