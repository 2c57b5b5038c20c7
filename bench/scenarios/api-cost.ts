// 2. API cost per synced message, from the emulators' request logs (quota units and calls per
// mailbox, exactly what Google/Microsoft would count) and the host's own count of HTTP requests.
// Single messages (one at a time), bursts (100 messages in 1 s to one mailbox) and duplicated
// notifications, each against the minimum any client needs.
import { performance } from 'node:perf_hooks';
import type { RequestLog } from '@threadlink/testing';
import { clientAddress, sleep, startRig, type ProviderName, type Rig } from '../lib/rig.js';
import { figure, type Figure, type Scenario } from '../lib/scenario.js';
import { summarize } from '../lib/stats.js';

const RTT_MS = 20;
const BURST = 100;
/** Google allows 100 calls per batch but advises against more than 50; the adapter uses 50. */
const GMAIL_BATCH = 50;
const WITHIN_TARGET = [{ of: 'ratio.median' as const, op: '<=' as const, value: 1.05, text: '≤ 1.05× minimum' }];

interface Snapshot {
  units: number;
  calls: number;
  pulls: number;
  http: number;
}

async function snapshot(rig: Rig, provider: ProviderName, mailbox: string): Promise<Snapshot> {
  const log: RequestLog = rig.log(provider);
  const emulatorUrl = provider === 'gmail' ? rig.google!.url : rig.microsoft!.url;
  const entries = log.entries.filter((entry) => entry.mailbox === mailbox);
  return {
    units: entries.reduce((sum, entry) => sum + entry.units, 0),
    // Quota-counted API calls: a batch's parts count one each (Google counts them so), envelopes not.
    calls: entries.filter((entry) => entry.operation !== 'batch' && entry.operation !== '$batch').length,
    pulls: entries.filter((entry) => entry.operation === (provider === 'gmail' ? 'history.list' : 'delta')).length,
    http: await rig.host.outgoing(emulatorUrl),
  };
}

const minus = (after: Snapshot, before: Snapshot): Snapshot => ({
  units: after.units - before.units,
  calls: after.calls - before.calls,
  pulls: after.pulls - before.pulls,
  http: after.http - before.http,
});

async function settle(rig: Rig, provider: ProviderName): Promise<void> {
  // Trailing pushes (Gmail folds pushes within 1 s into one at the end of the window) go out now.
  for (let round = 0; round < 3; round += 1) {
    if (provider === 'gmail') await rig.google!.flushNotifications();
    else await rig.microsoft!.flushNotifications();
    await rig.host.idle();
  }
}

async function connected(rig: Rig, provider: ProviderName, email: string): Promise<void> {
  rig.addMailbox(provider, email);
  if (provider === 'outlook') {
    // A real mailbox's folders, every one synced: the cost per message must not grow with them.
    const microsoft = rig.microsoft!;
    const projects = microsoft.createFolder(email, 'Projects');
    microsoft.createFolder(email, 'Acme', projects);
    microsoft.createFolder(email, 'Clients');
  }
  await rig.host.connect(provider, email);
  await settle(rig, provider);
}

/** One message at a time; the cost of each, measured alone. */
async function singles(rig: Rig, provider: ProviderName, email: string, count: number, index: { next: number }): Promise<Snapshot[]> {
  const costs: Snapshot[] = [];
  for (let message = 0; message < count; message += 1) {
    const before = await snapshot(rig, provider, email);
    const id = await rig.deliver(provider, { to: email, from: clientAddress(index.next), subject: `Re: PRJ-${10_000 + (index.next % 1_000)} site visit` });
    index.next += 1;
    await rig.host.waitSynced(id);
    await settle(rig, provider);
    costs.push(minus(await snapshot(rig, provider, email), before));
  }
  return costs;
}

/** `BURST` messages within one second to one mailbox; the cost of the whole burst. */
async function burst(rig: Rig, provider: ProviderName, email: string, index: { next: number }): Promise<Snapshot> {
  const before = await snapshot(rig, provider, email);
  const started = performance.now();
  const ids: string[] = [];
  for (let message = 0; message < BURST; message += 1) {
    const due = started + (message * 1_000) / BURST;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    ids.push(
      await rig.deliver(provider, { to: email, from: clientAddress(index.next), subject: `PRJ-${10_000 + (index.next % 1_000)} delivery note ${message}` }),
    );
    index.next += 1;
  }
  for (const id of ids) await rig.host.waitSynced(id, 30_000);
  await settle(rig, provider);
  return minus(await snapshot(rig, provider, email), before);
}

export const apiCost: Scenario = {
  name: 'api-cost',
  title: 'API cost per message (quota units, calls, HTTP requests) vs the minimum',
  budget: { full: 35, quick: 14 },
  async run(context) {
    const singlesCount = context.quick ? 4 : 12;
    const bursts = context.quick ? 1 : 2;
    const rig = await startRig({ providers: ['gmail', 'outlook'], label: 'api-cost', latencyMs: RTT_MS, store: { kind: 'memory' } });
    const figures: Figure[] = [];
    const details: Record<string, unknown> = {};
    const index = { next: 0 };
    try {
      // ---- Gmail ------------------------------------------------------------------------
      await connected(rig, 'gmail', 'single@acme.example');
      const gmailSingles = await singles(rig, 'gmail', 'single@acme.example', singlesCount, index);
      await connected(rig, 'gmail', 'burst@acme.example');
      const gmailBursts: Snapshot[] = [];
      for (let round = 0; round < bursts; round += 1) gmailBursts.push(await burst(rig, 'gmail', 'burst@acme.example', index));
      await connected(rig, 'gmail', 'dup@acme.example');
      const pushesBefore = rig.google!.pushLog.duplicated;
      rig.google!.faults.duplicateNotifications = 1;
      const gmailDuplicates = await singles(rig, 'gmail', 'dup@acme.example', Math.ceil(singlesCount / 2), index);
      rig.google!.faults.duplicateNotifications = 0;
      const gmailDuplicated = rig.google!.pushLog.duplicated - pushesBefore;
      context.log(
        `gmail: singles ${summarize(gmailSingles.map((cost) => cost.units)).median} units, bursts ${gmailBursts.map((cost) => cost.units).join('/')} units`,
      );

      // ---- Outlook ----------------------------------------------------------------------
      await connected(rig, 'outlook', 'single@contoso.example');
      const outlookSingles = await singles(rig, 'outlook', 'single@contoso.example', singlesCount, index);
      await connected(rig, 'outlook', 'burst@contoso.example');
      const outlookBursts: Snapshot[] = [];
      for (let round = 0; round < bursts; round += 1) outlookBursts.push(await burst(rig, 'outlook', 'burst@contoso.example', index));
      await connected(rig, 'outlook', 'dup@contoso.example');
      const duplicateCount = Math.ceil(singlesCount / 2);
      rig.microsoft!.faults.duplicateNotifications = duplicateCount * 4;
      const outlookDuplicates = await singles(rig, 'outlook', 'dup@contoso.example', duplicateCount, index);
      const outlookDuplicated = duplicateCount * 4 - rig.microsoft!.faults.duplicateNotifications;
      rig.microsoft!.faults.duplicateNotifications = 0;
      context.log(
        `outlook: singles ${summarize(outlookSingles.map((cost) => cost.http)).median} requests, bursts ${outlookBursts.map((cost) => cost.http).join('/')} requests`,
      );

      const gmailSingleMinimum = 2 + 5; // history.list + messages.get
      const gmailBurstMinimum = 2 + 5 * BURST; // one history.list for the whole burst
      figures.push(
        figure({
          name: 'gmail single: quota units/message',
          unit: 'units',
          better: 'lower',
          samples: gmailSingles.map((cost) => cost.units),
          limit: { name: 'minimum (history.list 2 + messages.get 5)', samples: [gmailSingleMinimum] },
          targets: WITHIN_TARGET,
        }),
        figure({
          name: 'gmail single: HTTP requests/message',
          unit: 'requests',
          better: 'lower',
          samples: gmailSingles.map((cost) => cost.http),
          limit: { name: 'minimum (history.list + messages.get)', samples: [2] },
        }),
        figure({
          name: `gmail burst ${BURST}/s: quota units/message`,
          unit: 'units',
          better: 'lower',
          samples: gmailBursts.map((cost) => cost.units / BURST),
          limit: { name: 'minimum ((2 + 5·100) / 100)', samples: [gmailBurstMinimum / BURST] },
          targets: WITHIN_TARGET,
        }),
        figure({
          name: `gmail burst ${BURST}/s: HTTP requests/burst`,
          unit: 'requests',
          better: 'lower',
          samples: gmailBursts.map((cost) => cost.http),
          limit: { name: `minimum (1 history.list + ${BURST / GMAIL_BATCH} batches of ${GMAIL_BATCH})`, samples: [1 + Math.ceil(BURST / GMAIL_BATCH)] },
        }),
        figure({
          name: 'gmail duplicated push: extra pulls',
          unit: 'pulls',
          better: 'lower',
          samples: gmailDuplicates.map((cost) => cost.pulls - 1),
          limit: { name: 'zero', samples: [0] },
          targets: [{ of: 'p99', op: '==', value: 0, text: '= 0' }],
        }),
        figure({
          name: 'outlook single: requests/message',
          unit: 'requests',
          better: 'lower',
          samples: outlookSingles.map((cost) => cost.http),
          limit: { name: 'minimum (1 delta of the notified folder)', samples: [1] },
          targets: WITHIN_TARGET,
        }),
        figure({
          name: `outlook burst ${BURST}/s: requests/message`,
          unit: 'requests',
          better: 'lower',
          samples: outlookBursts.map((cost) => cost.http / BURST),
          limit: { name: 'minimum (1 delta page of 100 / 100)', samples: [1 / BURST] },
          targets: WITHIN_TARGET,
        }),
        figure({
          name: 'outlook duplicated notification: extra pulls',
          unit: 'pulls',
          better: 'lower',
          samples: outlookDuplicates.map((cost, position) => cost.pulls - (outlookSingles[position]?.pulls ?? 0)),
          limit: { name: 'zero', samples: [0] },
          targets: [{ of: 'p99', op: '==', value: 0, text: '= 0' }],
        }),
      );
      details.gmail = {
        singles: gmailSingles,
        bursts: gmailBursts,
        duplicates: gmailDuplicates,
        duplicatedPushes: gmailDuplicated,
        pushesFoldedByRateLimit: rig.google!.pushLog.rateLimited,
      };
      details.outlook = { singles: outlookSingles, bursts: outlookBursts, duplicates: outlookDuplicates, duplicatedNotifications: outlookDuplicated };
    } finally {
      await rig.close();
    }
    return {
      figures,
      settings: { rttMs: RTT_MS, burst: `${BURST} messages in 1 s to one mailbox`, singles: singlesCount, bursts, gmailNotificationIntervalMs: 1_000 },
      notes: [
        "Quota units and calls come from the emulator request log for the mailbox (Gmail units per method as documented; every Graph request counts one toward Outlook's 10,000 per 10 min). HTTP requests are counted in the SDK process (a batch is one request).",
        'Gmail pushes at most once per second per mailbox (the emulator folds extra ones into one trailing push, as Gmail drops them); the trailing push is delivered before each cost is read.',
        'Each Outlook mailbox has Archive and three user folders (Projects, Projects/Acme, Clients) besides Inbox and Sent Items, all synced with a subscription each: the cost per message is measured with every folder tracked.',
        'Outlook duplicates: the emulator re-sends a notification in a second POST; Gmail duplicates: Pub/Sub pushes the same messageId twice. "Extra pulls" compares with the same message without duplicates.',
      ],
      details,
    };
  },
};
