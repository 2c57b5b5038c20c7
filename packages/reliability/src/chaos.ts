// The chaos run: random mail, replies, deletions and label/folder moves on several Gmail and
// Outlook mailboxes while faults strike, then a heal phase (faults off, reconnects, the clock
// advanced so renewals and safety nets are due, maintain() until quiet) and the verdict against
// the emulators' ground truth. One seed = one reproducible scenario.
import { randomBytes } from 'node:crypto';
import type { PublicConnection } from '@threadlink/core';
import { canaryHits, compareConnection, expectedGmail, expectedOutlook, physicalAnomalies, type ConnectionVerdict } from './ground-truth.js';
import { seededRandom } from './random.js';
import type { StoreKind } from './stores.js';
import { CLIENTS, COMPANY_DOMAIN, createWorld, KNOWN_PROJECTS, type CrashPoint } from './world.js';

const FAULT_NAMES = [
  'notification.dropped',
  'notification.duplicated',
  'notification.reordered',
  'provider.5xx',
  'provider.429',
  'latency.spike',
  'gmail.history-expired',
  'outlook.delta-expired',
  'gmail.watch-expired',
  'outlook.subscription-expired',
  'token.revoked',
  'crash.mid-pull',
  'crash.before-commit',
  'crash.after-commit',
] as const;
type FaultName = (typeof FAULT_NAMES)[number];

export interface ChaosOptions {
  seed: number;
  storeKind: StoreKind;
  /** Processes sharing the store at once. */
  engines?: number;
  rounds: number;
  gmailMailboxes?: string[];
  outlookMailboxes?: string[];
  /** Messages each mailbox holds before it is connected (the back-fill path). */
  messagesBeforeConnect?: number;
  /** Mail actions per round (min, max). */
  actionsPerRound?: [number, number];
  log?: (line: string) => void;
}

export interface ChaosReport {
  seed: number;
  storeKind: StoreKind;
  engines: number;
  faults: Record<FaultName, number>;
  totalFaults: number;
  actions: Record<string, number>;
  messages: number;
  missing: number;
  extra: number;
  duplicates: number;
  mismatched: number;
  linksChecked: number;
  linksMissing: number;
  leaks: string[];
  /** Everything that is wrong, human-readable (empty on success). */
  problems: string[];
  verdicts: ConnectionVerdict[];
  summary: string;
  healRounds: number;
  /** Processes (of all that ever ran) that committed synced messages: with two engines, both must work. */
  processesThatSynced: number;
  durationMs: number;
  /** Every log line (debug included) of every process, in order: kept for diagnosing a failed run. */
  logs: string[];
}

interface Mailbox {
  provider: 'gmail' | 'outlook';
  email: string;
}

const EXTERNAL_SENDERS = [...CLIENTS.map((client) => client.address), `ceo@${COMPANY_DOMAIN.domain}`, 'someone@unknown.test', 'noreply@newsletter.test'];
const NAMES: Record<string, string> = { 'buyer@bigco.test': 'Bea Buyer', 'anna.schmidt@muster.test': 'Anna Schmidt (Müller & Söhne)' };

const DAY = 24 * 60 * 60_000;

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const started = Date.now();
  const random = seededRandom(options.seed);
  const mail = random.fork('mail');
  const chaos = random.fork('faults');
  const userLog = options.log ?? (() => undefined);
  const engines = options.engines ?? 1;
  const canary = `TLCANARY${options.seed}X${randomBytes(6).toString('hex')}`;
  const faults = Object.fromEntries(FAULT_NAMES.map((name) => [name, 0])) as Record<FaultName, number>;
  const actions: Record<string, number> = {};
  const count = (name: string): void => void (actions[name] = (actions[name] ?? 0) + 1);
  const problems: string[] = [];
  const world = await createWorld({ random, storeKind: options.storeKind, engines });
  const { google, microsoft } = world;
  // Interleaved with the processes' own log lines, so a failed run reads as one timeline.
  const log = (line: string): void => {
    userLog(line);
    world.logs.push(JSON.stringify({ level: 'chaos', message: line }));
  };
  const mailboxes: Mailbox[] = [
    ...(options.gmailMailboxes ?? ['ana@acme.test', 'ben@acme.test']).map((email) => ({ provider: 'gmail' as const, email })),
    ...(options.outlookMailboxes ?? ['cleo@contoso.test', 'dan@contoso.test']).map((email) => ({ provider: 'outlook' as const, email })),
  ];
  let sequence = 0;

  // ---- mail -------------------------------------------------------------------------------
  const subjectFor = (): string => {
    const known = mail.pick(KNOWN_PROJECTS);
    return mail.weighted<string>([
      [`Change request – ${known}`, 3],
      [`Angebot für Müller ${known} – Übersicht`, 2],
      [`Quote ${known} (revised)`, 2],
      [`Invoice PRJ-9${mail.int(100, 999)}`, 1],
      ['Lunch next week?', 2],
      [`Site visit ${known} / ${mail.pick(KNOWN_PROJECTS)}`, 1],
      ['日本語の件名 テスト', 1],
    ]);
  };
  const bodyText = (): string => `Hello,\n\nthis is message ${(sequence += 1)} — ${canary} — please keep it private.\n`;
  const bodyHtml = (): string => `<p>Hi there <b>${canary}</b></p><img src="https://tracker.test/p.gif?${canary}">`;
  const attachmentsFor = (subject: string) => {
    if (!mail.chance(0.25)) return undefined;
    const reference = /PRJ-\d{4}/.exec(subject)?.[0] ?? mail.pick(KNOWN_PROJECTS);
    return [{ filename: `Proposal ${reference}.pdf`, content: `%PDF-1.4 ${canary}`, contentType: 'application/pdf' }];
  };
  const display = (address: string): string => (NAMES[address] ? `"${NAMES[address]}" <${address}>` : address);
  const sameProvider = (mailbox: Mailbox): Mailbox[] => mailboxes.filter((other) => other.provider === mailbox.provider && other.email !== mailbox.email);

  async function deliverNew(mailbox: Mailbox, direction: 'inbound' | 'outbound' | 'internal'): Promise<void> {
    const subject = subjectFor();
    const external = mail.pick(EXTERNAL_SENDERS);
    const peers = sameProvider(mailbox);
    const counterpart = direction === 'internal' && peers.length > 0 ? mail.pick(peers).email : external;
    const from = direction === 'inbound' ? external : mailbox.email;
    const to = direction === 'inbound' ? mailbox.email : counterpart;
    const attachments = attachmentsFor(subject);
    const withHtml = mail.chance(0.5);
    const text = bodyText();
    if (mailbox.provider === 'gmail') {
      await google.deliver({
        from: mailbox.provider === 'gmail' && direction === 'inbound' ? display(from) : from,
        to,
        subject,
        text,
        ...(withHtml ? { html: bodyHtml() } : {}),
        ...(attachments ? { attachments } : {}),
        ...(mail.chance(0.2) ? { cc: `ceo@${COMPANY_DOMAIN.domain}` } : {}),
      });
    } else {
      await microsoft.deliver({ from, to, subject, text, ...(withHtml ? { html: bodyHtml() } : {}), ...(attachments ? { attachments } : {}) });
    }
  }

  async function deliverReply(mailbox: Mailbox): Promise<boolean> {
    if (mailbox.provider === 'gmail') {
      const existing = google.messages(mailbox.email);
      if (existing.length === 0) return false;
      const original = mail.pick(existing);
      const subject = mail.chance(0.5) ? `Re: ${original.subject}` : 'Re: following up';
      await google.deliver({
        from: mail.pick(EXTERNAL_SENDERS),
        to: mailbox.email,
        subject,
        text: bodyText(),
        inReplyTo: original.messageId,
        references: [original.messageId],
        threadId: original.threadId,
        mailbox: mailbox.email,
      });
      return true;
    }
    const existing = microsoft.messages(mailbox.email);
    if (existing.length === 0) return false;
    const original = mail.pick(existing);
    await microsoft.deliver({
      from: mail.pick(EXTERNAL_SENDERS),
      to: mailbox.email,
      subject: mail.chance(0.5) ? `RE: ${original.subject}` : 'RE: following up',
      text: bodyText(),
      inReplyTo: original.internetMessageId,
      mailbox: mailbox.email,
    });
    return true;
  }

  async function replyThroughThreadlink(mailbox: Mailbox): Promise<boolean> {
    // One draw, always, from the mailbox itself (not from what happens to be synced yet): the seed's
    // later choices must not depend on timing.
    const inMailbox =
      mailbox.provider === 'gmail'
        ? google.messages(mailbox.email).map((message) => message.id)
        : microsoft.messages(mailbox.email).map((message) => message.id);
    const choice = mail.next();
    if (inMailbox.length === 0) return false;
    const target = inMailbox.sort()[Math.floor(choice * inMailbox.length)]!;
    // The user clicks "Reply" in the CRM: if every process just died, the supervisor restarts one first.
    if (world.alive().length === 0) await world.restartDead();
    const connection = await connectionOf(mailbox);
    if (connection?.status !== 'live') return false;
    // Not synced yet (or not mail the CRM shows, like trash): nothing to click on.
    const stored = await world.backend.primary.getMessageByProviderId(connection.id, target);
    if (!stored) return false;
    try {
      await world.any().tl.messages.reply(stored.id, { tenantId: world.tenantId, as: 'admin', text: `Thanks! ${canary}` });
      return true;
    } catch {
      // Under injected faults a send may fail; the host would show an error. Not a sync problem.
      count('reply.failed');
      return false;
    }
  }

  function deleteOne(mailbox: Mailbox): boolean {
    if (mailbox.provider === 'gmail') {
      const existing = google.messages(mailbox.email);
      if (existing.length === 0) return false;
      google.deleteMessage(mailbox.email, mail.pick(existing).id);
      return true;
    }
    const existing = microsoft.messages(mailbox.email);
    if (existing.length === 0) return false;
    microsoft.deleteMessage(mailbox.email, mail.pick(existing).id);
    return true;
  }

  function moveOne(mailbox: Mailbox): boolean {
    if (mailbox.provider === 'gmail') {
      const existing = google.messages(mailbox.email);
      if (existing.length === 0) return false;
      const message = mail.pick(existing);
      const [add, remove] = mail.weighted<[string[], string[]]>([
        [[[], ['INBOX']], 3],
        [[['INBOX'], []], 2],
        [[['STARRED'], []], 2],
        [[['Label_crm'], ['UNREAD']], 2],
        [[['SPAM'], ['INBOX']], 1],
        [[[], ['SPAM']], 1],
        [[['TRASH'], []], 1],
        [[[], ['TRASH']], 1],
      ]);
      google.modifyLabels(mailbox.email, message.id, add, remove);
      return true;
    }
    const existing = microsoft.messages(mailbox.email);
    if (existing.length === 0) return false;
    const message = mail.pick(existing);
    if (mail.chance(0.3)) {
      microsoft.updateMessage(mailbox.email, message.id, { categories: mail.pick([['Blue category'], ['CRM', 'Red category'], []]) });
    } else {
      microsoft.moveMessage(mailbox.email, message.id, mail.pick(['inbox', 'sentitems', 'archive', 'deleteditems', 'junkemail']));
    }
    return true;
  }

  async function mailAction(): Promise<void> {
    const mailbox = mail.pick(mailboxes);
    const action = mail.weighted<string>([
      ['inbound', 5],
      ['outbound', 2],
      ['internal', 1],
      ['reply', 3],
      ['tl-reply', 1],
      ['delete', 2],
      ['move', 3],
    ]);
    let done = true;
    if (action === 'inbound' || action === 'outbound' || action === 'internal') await deliverNew(mailbox, action);
    else if (action === 'reply') done = await deliverReply(mailbox);
    else if (action === 'tl-reply') done = await replyThroughThreadlink(mailbox);
    else if (action === 'delete') done = deleteOne(mailbox);
    else done = moveOne(mailbox);
    if (done) count(`mail.${action}`);
    log(`mail ${action} on ${mailbox.email}${done ? '' : ' (nothing to do)'}`);
  }

  // ---- connections ------------------------------------------------------------------------
  async function connectionOf(mailbox: Mailbox): Promise<PublicConnection | undefined> {
    const list = await world.any().tl.connections.list({ tenantId: world.tenantId, as: 'admin' });
    return list.find((connection) => connection.accountEmail === mailbox.email && connection.provider === mailbox.provider);
  }

  /** A user whose mailbox needs re-consent (revoked grant, failed connect) connects again. */
  async function reconnectWhereNeeded(): Promise<number> {
    let reconnected = 0;
    for (const mailbox of mailboxes) {
      const connection = await connectionOf(mailbox);
      if (connection && (connection.status === 'live' || connection.status === 'backfilling')) continue;
      try {
        await world.connect(mailbox.provider, mailbox.email);
        reconnected += 1;
        count('oauth.reconnect');
      } catch (error) {
        log(`reconnect of ${mailbox.email} failed: ${(error as Error).message}`);
      }
    }
    return reconnected;
  }

  // ---- faults -----------------------------------------------------------------------------
  const resetKnobs = (): void => {
    Object.assign(google.faults, {
      latencyMs: 0,
      jitterMs: 0,
      errorRate: 0,
      forced429: 0,
      dropNotifications: 0,
      duplicateNotifications: 0,
      reorderNotifications: false,
    });
    Object.assign(microsoft.faults, {
      latencyMs: 0,
      jitterMs: 0,
      errorRate: 0,
      forced429: 0,
      dropNotifications: 0,
      duplicateNotifications: 0,
      reorderNotifications: false,
    });
  };
  const pushCounters = () => ({ dropped: google.pushLog.dropped, duplicated: google.pushLog.duplicated });
  let graphDropsSet = 0;
  let graphDuplicatesSet = 0;
  const settleGraphCounters = (): void => {
    // Graph knobs are counts, consumed per notification: what was consumed is what struck.
    faults['notification.dropped'] += graphDropsSet - microsoft.faults.dropNotifications;
    faults['notification.duplicated'] += graphDuplicatesSet - microsoft.faults.duplicateNotifications;
    graphDropsSet = 0;
    graphDuplicatesSet = 0;
  };

  async function injectFault(): Promise<void> {
    const target = chaos.pick(mailboxes);
    const kind = chaos.weighted<string>([
      ['drop', 3],
      ['duplicate', 3],
      ['reorder', 2],
      ['5xx', 3],
      ['429', 3],
      ['latency', 1],
      ['cursor', 2],
      ['push-expired', 2],
      ['revoke', 1],
      ['crash', 2],
    ]);
    log(`fault ${kind} on ${target.email}`);
    switch (kind) {
      case 'drop':
        if (target.provider === 'gmail') google.faults.dropNotifications = 0.5;
        else {
          microsoft.faults.dropNotifications += 3;
          graphDropsSet += 3;
        }
        break;
      case 'duplicate':
        if (target.provider === 'gmail') google.faults.duplicateNotifications = 0.5;
        else {
          microsoft.faults.duplicateNotifications += 3;
          graphDuplicatesSet += 3;
        }
        break;
      case 'reorder':
        if (target.provider === 'gmail') google.faults.reorderNotifications = true;
        else microsoft.faults.reorderNotifications = true;
        faults['notification.reordered'] += 1;
        break;
      case '5xx':
        if (chaos.chance(0.5)) {
          if (target.provider === 'gmail')
            google.failNext(chaos.pick(['*', 'history.list', 'messages.get', 'watch']), { status: chaos.pick([500, 503]), count: chaos.int(1, 4) });
          else microsoft.faults.errorRate = 0.2;
        } else if (target.provider === 'gmail') google.faults.errorRate = 0.2;
        else microsoft.faults.errorRate = 0.15;
        faults['provider.5xx'] += 1;
        break;
      case '429':
        if (target.provider === 'gmail') google.faults.forced429 += chaos.int(2, 6);
        else microsoft.faults.forced429 += chaos.int(2, 6);
        faults['provider.429'] += 1;
        break;
      case 'latency':
        if (target.provider === 'gmail') Object.assign(google.faults, { latencyMs: 60, jitterMs: 120 });
        else Object.assign(microsoft.faults, { latencyMs: 60, jitterMs: 120 });
        faults['latency.spike'] += 1;
        break;
      case 'cursor':
        if (target.provider === 'gmail') {
          google.expireHistory(target.email);
          faults['gmail.history-expired'] += 1;
        } else {
          microsoft.expireDeltaTokens(target.email);
          faults['outlook.delta-expired'] += 1;
        }
        break;
      case 'push-expired':
        if (target.provider === 'gmail') {
          google.expireWatch(target.email);
          faults['gmail.watch-expired'] += 1;
        } else {
          const subscriptions = microsoft.subscriptions().filter((subscription) => subscription.mailbox === target.email);
          for (const subscription of subscriptions) microsoft.expireSubscription(subscription.id);
          if (subscriptions.length > 0) faults['outlook.subscription-expired'] += 1;
        }
        break;
      case 'revoke':
        if (target.provider === 'gmail') google.revokeTokens(target.email);
        else microsoft.revokeTokens(target.email);
        faults['token.revoked'] += 1;
        break;
      case 'crash': {
        const point = chaos.pick<CrashPoint>(['pull', 'before-commit', 'after-commit']);
        chaos.pick(world.alive()).arm(point);
        break;
      }
    }
  }

  const recordCrashes = (): void => {
    for (const point of world.crashes.splice(0)) {
      faults[point === 'pull' ? 'crash.mid-pull' : point === 'before-commit' ? 'crash.before-commit' : 'crash.after-commit'] += 1;
    }
  };

  // ---- the run ----------------------------------------------------------------------------
  let healRounds = 0;
  try {
    for (const mailbox of mailboxes) {
      if (mailbox.provider === 'gmail') google.addMailbox({ email: mailbox.email });
      else microsoft.addMailbox({ email: mailbox.email });
    }
    for (let index = 0; index < (options.messagesBeforeConnect ?? 12); index += 1) {
      for (const mailbox of mailboxes) await deliverNew(mailbox, mail.chance(0.7) ? 'inbound' : 'outbound');
    }
    // The first back-fill page of one mailbox kills its process: back-fill must resume on a new one.
    world.any().arm(chaos.pick<CrashPoint>(['before-commit', 'after-commit']));
    for (const mailbox of mailboxes) {
      try {
        await world.connect(mailbox.provider, mailbox.email);
      } catch (error) {
        log(`initial connect of ${mailbox.email} failed: ${(error as Error).message}`);
      }
    }
    await world.settle();
    recordCrashes();
    await world.restartDead();
    for (const instance of world.instances) instance.disarm();
    await reconnectWhereNeeded();
    await world.settle();

    const [minActions, maxActions] = options.actionsPerRound ?? [3, 8];
    for (let round = 0; round < options.rounds; round += 1) {
      log(`round ${round}`);
      resetKnobs();
      const before = pushCounters();
      const faultCount = chaos.int(1, 3);
      for (let index = 0; index < faultCount; index += 1) await injectFault();
      const actionCount = chaos.int(minActions, maxActions);
      for (let index = 0; index < actionCount; index += 1) {
        await mailAction();
        if (chaos.chance(0.3)) await new Promise((resolve) => setTimeout(resolve, chaos.int(0, 15)));
      }
      try {
        await world.settle(45_000);
      } catch (error) {
        problems.push(`round ${round}: ${(error as Error).message}`);
        break;
      }
      const after = pushCounters();
      faults['notification.dropped'] += after.dropped - before.dropped;
      faults['notification.duplicated'] += after.duplicated - before.duplicated;
      settleGraphCounters();
      recordCrashes();
      for (const instance of world.instances) instance.disarm();
      await world.restartDead();
      if (chaos.chance(0.7)) await reconnectWhereNeeded();
    }

    // ---- heal: faults off, users reconnect, time passes, maintain() until quiet -------------
    resetKnobs();
    recordCrashes();
    await world.restartDead();
    let previous = '';
    for (healRounds = 1; healRounds <= 12; healRounds += 1) {
      log(`heal round ${healRounds}`);
      await reconnectWhereNeeded();
      // Day one: renewals and the daily full reconciliation are due; later rounds: the safety net.
      world.clock.advance(healRounds === 1 ? DAY + 60_000 : 10 * 60_000 + 1_000);
      await world.any().tl.maintain();
      await world.settle(60_000);
      const verdicts = await judge();
      const fingerprint = JSON.stringify(verdicts.map((verdict) => [verdict.missing, verdict.extra, verdict.mismatched, verdict.linksMissing]));
      const clean = verdicts.every(
        (verdict) => verdict.missing.length + verdict.extra.length + verdict.mismatched.length + verdict.linksMissing.length + verdict.duplicates === 0,
      );
      const allLive = (await Promise.all(mailboxes.map(connectionOf))).every((connection) => connection?.status === 'live');
      if (clean && allLive && fingerprint === previous) break;
      previous = fingerprint;
    }

    // ---- verdict ----------------------------------------------------------------------------
    const verdicts = await judge();
    for (const mailbox of mailboxes) {
      const connection = await connectionOf(mailbox);
      if (!connection) problems.push(`${mailbox.email}: no connection`);
      else if (connection.status !== 'live') problems.push(`${mailbox.email}: connection is ${connection.status}`);
      if (mailbox.provider === 'gmail' && !google.watchOf(mailbox.email)) problems.push(`${mailbox.email}: no Gmail watch after healing`);
      if (mailbox.provider === 'outlook' && !microsoft.subscriptions().some((subscription) => subscription.mailbox === mailbox.email)) {
        const stored = connection?.subscription;
        const describe = stored
          ? `stored ${stored.items.length} item(s) expiring in ${Math.round((stored.expiresAt - world.clock.now()) / 60_000)} min, renew in ${Math.round((stored.renewAt - world.clock.now()) / 60_000)} min`
          : 'none stored';
        problems.push(`${mailbox.email}: no Graph subscription after healing (${describe})`);
      }
    }
    const dump = await world.backend.dump();
    const physical = physicalAnomalies(dump);
    const leaks = canaryHits(canary, {
      ...Object.fromEntries(Object.entries(dump).map(([table, rows]) => [`store.${table}`, rows])),
      logs: world.logs.join('\n'),
      events: world.events.map((event) => event.json).join('\n'),
    });
    const sum = (pick: (verdict: ConnectionVerdict) => number): number => verdicts.reduce((total, verdict) => total + pick(verdict), 0);
    const duplicates = sum((verdict) => verdict.duplicates) + physical.duplicateRows;
    for (const verdict of verdicts) {
      const label = `${verdict.accountEmail}`;
      if (verdict.missing.length) problems.push(`${label}: missing ${verdict.missing.length}: ${verdict.missing.slice(0, 5).join(', ')}`);
      if (verdict.extra.length) problems.push(`${label}: extra ${verdict.extra.length}: ${verdict.extra.slice(0, 5).join(', ')}`);
      if (verdict.mismatched.length) problems.push(`${label}: mismatched ${verdict.mismatched.length}: ${verdict.mismatched.slice(0, 3).join(' | ')}`);
      if (verdict.linksMissing.length) problems.push(`${label}: links missing ${verdict.linksMissing.length}: ${verdict.linksMissing.slice(0, 3).join(' | ')}`);
    }
    if (duplicates > 0) problems.push(`duplicates: ${duplicates}`);
    if (physical.danglingLinks > 0) problems.push(`dangling links: ${physical.danglingLinks}`);
    if (leaks.length > 0) problems.push(`canary leaked into: ${leaks.join(', ')}`);
    const totalFaults = Object.values(faults).reduce((total, value) => total + value, 0);
    const messages = sum((verdict) => verdict.expected);
    const report: ChaosReport = {
      seed: options.seed,
      storeKind: options.storeKind,
      engines,
      faults,
      totalFaults,
      actions,
      messages,
      missing: sum((verdict) => verdict.missing.length),
      extra: sum((verdict) => verdict.extra.length),
      duplicates,
      mismatched: sum((verdict) => verdict.mismatched.length),
      linksChecked: sum((verdict) => verdict.linksChecked),
      linksMissing: sum((verdict) => verdict.linksMissing.length),
      leaks,
      problems,
      verdicts,
      healRounds,
      processesThatSynced: new Set(world.events.filter((event) => event.name === 'message.synced').map((event) => event.process)).size,
      durationMs: Date.now() - started,
      logs: world.logs,
      summary: '',
    };
    report.summary = `reliability: faults=${totalFaults} messages=${messages} missing=${report.missing} extra=${report.extra} duplicates=${duplicates} leaks=${leaks.length}`;
    return report;
  } finally {
    await world.close();
  }

  async function judge(): Promise<ConnectionVerdict[]> {
    const store = world.backend.primary;
    const verdicts: ConnectionVerdict[] = [];
    for (const mailbox of mailboxes) {
      const connection = await connectionOf(mailbox);
      const expected = mailbox.provider === 'gmail' ? expectedGmail(google, mailbox.email) : expectedOutlook(microsoft, mailbox.email);
      if (!connection) {
        verdicts.push({
          connectionId: '-',
          accountEmail: mailbox.email,
          expected: expected.size,
          missing: [...expected.keys()],
          extra: [],
          mismatched: [],
          duplicates: 0,
          linksChecked: 0,
          linksMissing: [],
        });
        continue;
      }
      verdicts.push(await compareConnection(store, connection, expected));
    }
    return verdicts;
  }
}

export function formatFaults(report: ChaosReport): string {
  return FAULT_NAMES.filter((name) => report.faults[name] > 0)
    .map((name) => `${name}=${report.faults[name]}`)
    .join(' ');
}
