// Outlook allows 4 concurrent requests per app per mailbox; a fifth is answered 429
// (MailboxConcurrency) — https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits.
// One gate per mailbox, shared by every call this provider instance makes (a real-time pull
// and a back-fill page of the same connection run side by side), keeps us under it in-process.
export const MAILBOX_CONCURRENCY = 4;

class Gate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  get idle(): boolean {
    return this.active === 0 && this.waiting.length === 0;
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active += 1;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next waiter, so `active` only drops when nobody waits.
      if (next) next();
      else this.active -= 1;
    }
  }
}

export class MailboxGates {
  private readonly gates = new Map<string, Gate>();

  constructor(private readonly limit = MAILBOX_CONCURRENCY) {}

  async run<T>(mailbox: string, task: () => Promise<T>): Promise<T> {
    let gate = this.gates.get(mailbox);
    if (!gate) {
      gate = new Gate(this.limit);
      this.gates.set(mailbox, gate);
    }
    try {
      return await gate.run(task);
    } finally {
      if (gate.idle) this.gates.delete(mailbox);
    }
  }
}
