// 10. Org connect → all mailboxes live (issue 19): one admin approval for an organization of 500
// mailboxes (quick: 60), Google by domain-wide delegation (`tl.org.connect.direct` with a service
// account key; JWT-bearer tokens, Directory users.list, one users.watch per mailbox on the one topic)
// and Microsoft by application permissions (`tl.org.connect.start`, admin consent, the callback;
// client credentials, subscriptions per synced folder on /users/{id}). Each mailbox holds a few messages, so back-fill runs as in real life. The time is
// judged against the floor the provider's documented per-app limit allows for the requests made;
// the requests against the per-mailbox limits. Limits and sources: bench/README.md.
import { gmailAdminConsoleScopes } from '@threadlink/gmail';
import type { RequestLogEntry } from '@threadlink/testing';
import type { OrgConnectResult } from '../host/protocol.js';
import { clientAddress, startRig, type ProviderName, type Rig } from '../lib/rig.js';
import { figure, type Figure, type Scenario } from '../lib/scenario.js';

const RTT_MS = 20;
const EXISTING = 3;
const DOMAIN = 'acme.example';
const ADMIN = `admin@${DOMAIN}`;

/** Gmail: developers.google.com/workspace/gmail/api/reference/quota. */
const GMAIL_PROJECT_UNITS_PER_MINUTE = 1_200_000;
/** The stricter per-user figure (projects created since 1 May 2026); older projects: 15,000. */
const GMAIL_USER_UNITS_PER_MINUTE = 6_000;
/** Graph: learn.microsoft.com/graph/throttling-limits (global; Outlook service limits per app per mailbox). */
const GRAPH_APP_REQUESTS_PER_10_S = 130_000;
const OUTLOOK_REQUESTS_PER_MAILBOX_PER_10_MIN = 10_000;
/** learn.microsoft.com/graph/outlook-change-notifications-overview: per mailbox, all apps together. */
const OUTLOOK_SUBSCRIPTIONS_PER_MAILBOX = 1_000;

const mailbox = (index: number): string => `user${String(index).padStart(3, '0')}@${DOMAIN}`;

async function seed(rig: Rig, provider: ProviderName, size: number): Promise<string[]> {
  // The admin is one of the org's mailboxes: `all` lists every user.
  const people = [ADMIN, ...Array.from({ length: size - 1 }, (_, index) => mailbox(index + 1))];
  for (const [index, email] of people.entries()) {
    if (provider === 'gmail') rig.google!.workspace.addUser({ email, isAdmin: email === ADMIN });
    else rig.addMailbox(provider, email);
    for (let message = 0; message < EXISTING; message += 1)
      await rig.deliver(provider, { to: email, from: clientAddress(index * EXISTING + message), subject: `Earlier mail ${message}` });
  }
  if (provider === 'outlook') rig.microsoft!.org.makeAdmin(ADMIN);
  return people;
}

async function connectOrg(rig: Rig, provider: ProviderName, expected: number): Promise<OrgConnectResult> {
  const credentials = provider === 'gmail' ? await rig.google!.workspace.createServiceAccount('threadlink-sync') : null;
  if (credentials) rig.google!.workspace.authorizeDelegation(credentials.client_id, gmailAdminConsoleScopes('full'));
  return rig.host.connectOrg({
    provider,
    directoryId: provider === 'gmail' ? DOMAIN : rig.microsoft!.tenantId,
    adminEmail: ADMIN,
    credentials,
    selection: { all: true },
    expected,
    timeoutMs: 300_000,
  });
}

function byOperation(entries: readonly RequestLogEntry[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const entry of entries) counts[entry.operation ?? entry.path] = (counts[entry.operation ?? entry.path] ?? 0) + 1;
  return counts;
}

/** The time figure: connect → the last mailbox live, next to the floor the provider's per-app limit sets for its requests. */
function allLive(provider: ProviderName, size: number, result: OrgConnectResult, limitName: string, limitMs: number): Figure {
  return figure({
    name: `${provider} org of ${size}: connect → all live`,
    unit: 'ms',
    better: 'lower',
    samples: [result.allLiveMs],
    limit: { name: limitName, samples: [limitMs] },
  });
}

function gmailFigures(size: number, result: OrgConnectResult, entries: readonly RequestLogEntry[]): Figure[] {
  const units = entries.reduce((sum, entry) => sum + entry.units, 0);
  const perMailbox = new Map<string, number>();
  for (const entry of entries) if (entry.mailbox) perMailbox.set(entry.mailbox, (perMailbox.get(entry.mailbox) ?? 0) + entry.units);
  return [
    allLive(
      'gmail',
      size,
      result,
      `its ${units.toLocaleString('en-US')} quota units at the per-project limit (1,200,000/min)`,
      (units / GMAIL_PROJECT_UNITS_PER_MINUTE) * 60_000,
    ),
    figure({
      name: `gmail org of ${size}: quota units per mailbox`,
      unit: 'units',
      better: 'lower',
      samples: [...perMailbox.values()],
      limit: { name: 'per-user limit (6,000/min, projects since May 2026)', samples: [GMAIL_USER_UNITS_PER_MINUTE] },
      targets: [{ of: 'p99', op: '<', value: GMAIL_USER_UNITS_PER_MINUTE, text: '< per-user limit' }],
    }),
    figure({
      name: `gmail org of ${size}: quota units, whole connect`,
      unit: 'units',
      better: 'lower',
      samples: [units],
      limit: { name: 'per-project limit for one minute', samples: [GMAIL_PROJECT_UNITS_PER_MINUTE] },
      targets: [{ of: 'value', op: '<', value: GMAIL_PROJECT_UNITS_PER_MINUTE, text: '< per-project limit' }],
    }),
  ];
}

/**
 * Graph requests per mailbox acted on: app-only calls name it in the path (`/users/{object id}/…`);
 * a `$batch` is not counted itself, each of its requests is (Graph counts them one by one).
 */
function graphRequestsPerMailbox(entries: readonly RequestLogEntry[]): Map<string, number> {
  const perMailbox = new Map<string, number>();
  for (const entry of entries) {
    const user = /^\/v1\.0\/users\/([^/]+)/i.exec(entry.path)?.[1];
    if (user && entry.operation !== '$batch') perMailbox.set(user, (perMailbox.get(user) ?? 0) + 1);
  }
  return perMailbox;
}

function outlookFigures(size: number, result: OrgConnectResult, allEntries: readonly RequestLogEntry[], subscriptionsPerMailbox: number[]): Figure[] {
  const entries = allEntries.filter((entry) => entry.operation !== '$batch');
  const perMailbox = graphRequestsPerMailbox(entries);
  return [
    allLive(
      'outlook',
      size,
      result,
      `its ${entries.length.toLocaleString('en-US')} Graph requests at the per-app limit (130,000/10 s)`,
      (entries.length / GRAPH_APP_REQUESTS_PER_10_S) * 10_000,
    ),
    figure({
      name: `outlook org of ${size}: requests per mailbox`,
      unit: 'requests',
      better: 'lower',
      samples: [...perMailbox.values()],
      limit: { name: 'Outlook limit per app per mailbox (10,000 per 10 min)', samples: [OUTLOOK_REQUESTS_PER_MAILBOX_PER_10_MIN] },
      targets: [{ of: 'p99', op: '<', value: OUTLOOK_REQUESTS_PER_MAILBOX_PER_10_MIN, text: '< per-mailbox limit' }],
    }),
    figure({
      name: `outlook org of ${size}: subscriptions per mailbox`,
      unit: 'subscriptions',
      better: 'lower',
      samples: subscriptionsPerMailbox,
      limit: { name: 'active subscriptions per mailbox, all apps', samples: [OUTLOOK_SUBSCRIPTIONS_PER_MAILBOX] },
      targets: [{ of: 'p99', op: '<', value: OUTLOOK_SUBSCRIPTIONS_PER_MAILBOX, text: '< per-mailbox limit' }],
      note: 'One subscription per synced folder (the adapter syncs every folder); other apps share the same 1,000.',
    }),
  ];
}

async function runProvider(provider: ProviderName, size: number, log: (message: string) => void) {
  const rig = await startRig({
    providers: [provider],
    label: `org-${provider}`,
    latencyMs: RTT_MS,
    store: { kind: 'memory' },
    notificationIntervalMs: 0,
    ...(provider === 'gmail' ? { workspaceDomain: DOMAIN } : {}),
  });
  try {
    const people = await seed(rig, provider, size);
    rig.log(provider).clear();
    const result = await connectOrg(rig, provider, people.length);
    const entries = [...rig.log(provider).entries];
    log(`${provider}: ${result.live} of ${people.length} live, last after ${Math.round(result.allLiveMs)} ms, ${entries.length} requests`);
    if (result.live !== people.length) throw new Error(`${provider}: only ${result.live} of ${people.length} mailboxes live`);
    const subscriptions = provider === 'outlook' ? people.map((email) => rig.microsoft!.subscriptions().filter((entry) => entry.mailbox === email).length) : [];
    const figures = provider === 'gmail' ? gmailFigures(size, result, entries) : outlookFigures(size, result, entries, subscriptions);
    return { figures, details: { ...result, requests: entries.length, byOperation: byOperation(entries) } };
  } finally {
    await rig.close();
  }
}

export const orgConnect: Scenario = {
  name: 'org-connect',
  title: 'Org connect → all mailboxes live (500 mailboxes, Google delegation and Microsoft app permissions)',
  budget: { full: 420, quick: 60 },
  async run(context) {
    const size = context.quick ? 60 : 500;
    const figures: Figure[] = [];
    const details: Record<string, unknown> = {};
    for (const provider of ['gmail', 'outlook'] as const) {
      const outcome = await runProvider(provider, size, context.log);
      figures.push(...outcome.figures);
      details[provider] = outcome.details;
    }
    return {
      figures,
      settings: { mailboxes: size, rttMs: RTT_MS, existingMessagesPerMailbox: EXISTING, selection: 'all', store: 'memory' },
      notes: [
        'The clock starts at tl.org.connect.direct (Google) and stops at the last mailbox’s connection.live; back-fill of the existing mail runs alongside.',
        'Microsoft connects as a host does: tl.org.connect.start, the admin on the consent page, the browser (with its connect cookie) at /connect/org/callback; the clock starts at connect.start.',
        'Limits (bench/README.md): Gmail 1,200,000 units/min per project, 6,000 units/min per user (15,000 for projects before May 2026); Graph 130,000 requests/10 s per app, Outlook 10,000 requests/10 min per app per mailbox, 1,000 active subscriptions per mailbox for all apps.',
      ],
      details,
    };
  },
};
