// Outlook allows 4 concurrent requests per app per mailbox; a fifth is answered 429
// (MailboxConcurrency) — https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits.
// One gate per mailbox, shared by every call this provider instance makes (a real-time pull
// and a back-fill page of the same connection run side by side), keeps us under it in-process.
export const MAILBOX_CONCURRENCY = 4;

/** A FIFO counting semaphore; a caller may take several units at once (a $batch). */
class Gate {
  private active = 0;
  private readonly waiting: Array<{ units: number; wake: () => void }> = [];

  constructor(private readonly limit: number) {}

  get idle(): boolean {
    return this.active === 0 && this.waiting.length === 0;
  }

  async run<T>(units: number, task: () => Promise<T>): Promise<T> {
    const taken = Math.min(this.limit, Math.max(1, units));
    // FIFO: nobody overtakes a waiter, so a wide batch is not starved by single requests.
    if (this.waiting.length > 0 || this.active + taken > this.limit) {
      await new Promise<void>((wake) => this.waiting.push({ units: taken, wake }));
    } else {
      this.active += taken;
    }
    try {
      return await task();
    } finally {
      this.active -= taken;
      this.wakeWaiters();
    }
  }

  private wakeWaiters(): void {
    for (let head = this.waiting[0]; head && this.active + head.units <= this.limit; head = this.waiting[0]) {
      this.waiting.shift();
      this.active += head.units;
      head.wake();
    }
  }
}

export class MailboxGates {
  private readonly gates = new Map<string, Gate>();

  constructor(private readonly limit = MAILBOX_CONCURRENCY) {}

  /** Runs `task` holding `units` of the mailbox's slots (a $batch holds one per request it runs at once). */
  async run<T>(mailbox: string, units: number, task: () => Promise<T>): Promise<T> {
    let gate = this.gates.get(mailbox);
    if (!gate) {
      gate = new Gate(this.limit);
      this.gates.set(mailbox, gate);
    }
    try {
      return await gate.run(units, task);
    } finally {
      if (gate.idle) this.gates.delete(mailbox);
    }
  }
}
