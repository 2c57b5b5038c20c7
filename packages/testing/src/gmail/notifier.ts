// users.watch → Cloud Pub/Sub. Gmail publishes `{"emailAddress","historyId"}` to the
// watched topic whenever the mailbox changes, with its own rules:
// - a successful watch publishes one notification at once;
// - at most one notification per second per watched user; Gmail drops the extra ones
//   ("If the rate is exceeded, notifications are dropped"). The emulator's default
//   mode, `coalesce`, still honours one-per-second but sends one trailing notification
//   with the latest historyId at the end of the window, so a burst ends in a push;
//   `drop` reproduces Gmail exactly (a burst's tail produces no push at all, which is
//   why clients need a safety-net sync);
// - the label filter is best effort: an INBOX watch also fires for SENT and DRAFT
//   changes (google-api-nodejs-client issue 2301), so receivers must filter again;
// - a watch lapses after its expiration (7 days) or when the test expires it.
// developers.google.com/workspace/gmail/api/guides/push
import type { PushSubscription } from '../pubsub/push.js';
import type { HistoryRecord, Mailbox } from './mailbox.js';

export interface WatchState {
  topicName: string;
  labelIds: string[];
  labelFilterBehavior: 'include' | 'exclude';
  expiration: number;
  historyId: number;
}

interface RateWindow {
  lastPublishedAt: number;
  trailing?: ReturnType<typeof setTimeout>;
}

export interface NotifierOptions {
  push: PushSubscription;
  now: () => number;
  /** Gmail's 1 notification/s/user; lower it to speed tests up. */
  intervalMs: number;
  mode: 'coalesce' | 'drop';
}

const ALWAYS_NOTIFIED = ['SENT', 'DRAFT'];

export class WatchNotifier {
  readonly watches = new Map<string, WatchState>();
  /** Notifications Gmail's per-user rate limit swallowed (drop mode) or folded (coalesce mode). */
  rateLimited = 0;
  private readonly windows = new Map<string, RateWindow>();
  private readonly mailboxes = new Map<string, Mailbox>();
  private readonly pendingTrailing = new Set<string>();

  constructor(private readonly options: NotifierOptions) {}

  track(mailbox: Mailbox): void {
    this.mailboxes.set(mailbox.email, mailbox);
    mailbox.onChange((record) => this.onRecord(mailbox, record));
  }

  active(email: string): WatchState | undefined {
    const watch = this.watches.get(email);
    if (!watch) return undefined;
    if (watch.expiration <= this.options.now()) {
      this.watches.delete(email);
      return undefined;
    }
    return watch;
  }

  start(mailbox: Mailbox, watch: WatchState): void {
    this.watches.set(mailbox.email, watch);
    this.request(mailbox);
  }

  stop(email: string): void {
    this.watches.delete(email);
  }

  /** Delivers trailing notifications now instead of at the end of their window. */
  releaseTrailing(): void {
    for (const email of [...this.pendingTrailing]) {
      const window = this.windows.get(email);
      if (window?.trailing) clearTimeout(window.trailing);
      this.fireTrailing(email);
    }
  }

  close(): void {
    for (const window of this.windows.values()) if (window.trailing) clearTimeout(window.trailing);
    this.pendingTrailing.clear();
  }

  private onRecord(mailbox: Mailbox, record: HistoryRecord): void {
    const watch = this.active(mailbox.email);
    if (!watch || !this.passesFilter(watch, record)) return;
    this.request(mailbox);
  }

  private passesFilter(watch: WatchState, record: HistoryRecord): boolean {
    if (watch.labelIds.length === 0) return true;
    const labels = [...record.message.labelIds, ...(record.labelIds ?? [])];
    if (labels.some((label) => ALWAYS_NOTIFIED.includes(label))) return true;
    const matches = labels.some((label) => watch.labelIds.includes(label));
    return watch.labelFilterBehavior === 'exclude' ? !matches : matches;
  }

  private request(mailbox: Mailbox): void {
    const email = mailbox.email;
    const window = this.windows.get(email) ?? { lastPublishedAt: -Infinity };
    this.windows.set(email, window);
    if (this.pendingTrailing.has(email)) {
      this.rateLimited++;
      return;
    }
    const elapsed = performance.now() - window.lastPublishedAt;
    if (elapsed >= this.options.intervalMs) {
      this.publish(mailbox, window);
      return;
    }
    this.rateLimited++;
    if (this.options.mode === 'drop') return;
    this.pendingTrailing.add(email);
    window.trailing = setTimeout(() => this.fireTrailing(email), this.options.intervalMs - elapsed);
  }

  private fireTrailing(email: string): void {
    this.pendingTrailing.delete(email);
    const window = this.windows.get(email);
    const mailbox = this.mailboxes.get(email);
    if (window) delete window.trailing;
    if (!window || !mailbox || !this.active(email)) return;
    this.publish(mailbox, window);
  }

  private publish(mailbox: Mailbox, window: RateWindow): void {
    window.lastPublishedAt = performance.now();
    // Gmail sends historyId as a JSON number (receivers must accept a string too).
    this.options.push.publish(JSON.stringify({ emailAddress: mailbox.email, historyId: mailbox.historyId }));
  }

  hasPendingTrailing(): boolean {
    return this.pendingTrailing.size > 0;
  }
}
