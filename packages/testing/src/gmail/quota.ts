// Gmail API usage limits: every method costs quota units, and each user may spend
// 15,000 units per minute — enforced here as 250 units per user over a sliding 1 s
// window, which is how bursts actually get refused.
// developers.google.com/workspace/gmail/api/reference/quota
export const QUOTA_UNITS: Readonly<Record<string, number>> = {
  getProfile: 1,
  watch: 100,
  stop: 50,
  'history.list': 2,
  'labels.list': 1,
  'labels.get': 1,
  'labels.create': 5,
  'labels.delete': 5,
  'labels.patch': 5,
  'labels.update': 5,
  'messages.list': 5,
  'messages.get': 5,
  'messages.attachments.get': 5,
  'messages.send': 100,
  'messages.modify': 5,
  'messages.trash': 5,
  'messages.untrash': 5,
  'messages.delete': 10,
  'threads.get': 10,
  'threads.list': 10,
};

export class QuotaWindow {
  private readonly spent = new Map<string, { at: number; units: number }[]>();

  constructor(
    private readonly unitsPerSecond: () => number,
    private readonly now: () => number,
  ) {}

  /** Charges `units` to `mailbox`, or says when enough of the window frees up. */
  charge(mailbox: string, units: number): { ok: true } | { ok: false; retryAfter: Date } {
    const now = this.now();
    const entries = (this.spent.get(mailbox) ?? []).filter((entry) => entry.at > now - 1_000);
    this.spent.set(mailbox, entries);
    const used = entries.reduce((sum, entry) => sum + entry.units, 0);
    if (used + units <= this.unitsPerSecond()) {
      entries.push({ at: now, units });
      return { ok: true };
    }
    let freed = 0;
    let retryAt = now + 1_000;
    for (const entry of entries) {
      freed += entry.units;
      if (used - freed + units <= this.unitsPerSecond()) {
        retryAt = entry.at + 1_000;
        break;
      }
    }
    return { ok: false, retryAfter: new Date(retryAt) };
  }

  reset(mailbox?: string): void {
    if (mailbox === undefined) this.spent.clear();
    else this.spent.delete(mailbox);
  }
}
