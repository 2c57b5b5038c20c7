// One scheduler per process, ordered by due time: a min-heap and a single timer, never a
// timer per connection (a thousand mailboxes would otherwise mean a thousand timers).
import type { Clock } from '../util/clock.js';

interface Entry {
  at: number;
  seq: number;
  run: () => void;
  cancelled: boolean;
}

export class Scheduler {
  private readonly heap: Entry[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private seq = 0;
  private stopped = false;

  constructor(private readonly clock: Clock) {}

  /** Runs `run` at `at` (epoch ms). Returns a cancel function. */
  at(at: number, run: () => void): () => void {
    const entry: Entry = { at, seq: (this.seq += 1), run, cancelled: false };
    this.push(entry);
    this.arm();
    return () => {
      entry.cancelled = true;
    };
  }

  /** Runs everything due now (manual clocks in tests call this after advancing). */
  runDue(): void {
    const now = this.clock.now();
    while (this.heap.length > 0 && this.heap[0]!.at <= now) {
      const entry = this.pop()!;
      if (!entry.cancelled) entry.run();
    }
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.heap.length = 0;
  }

  private arm(): void {
    if (this.stopped) return;
    const top = this.heap[0];
    if (!top) return;
    if (this.timer && this.timerAt <= top.at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = top.at;
    const delay = Math.max(0, Math.min(top.at - this.clock.now(), 2_147_483_000));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.runDue();
    }, delay);
    this.timer.unref?.();
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (less(heap[parent]!, heap[index]!)) break;
      [heap[parent], heap[index]] = [heap[index]!, heap[parent]!];
      index = parent;
    }
  }

  private pop(): Entry | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let index = 0;
      for (;;) {
        const left = index * 2 + 1;
        const right = left + 1;
        let smallest = index;
        if (left < heap.length && less(heap[left]!, heap[smallest]!)) smallest = left;
        if (right < heap.length && less(heap[right]!, heap[smallest]!)) smallest = right;
        if (smallest === index) break;
        [heap[smallest], heap[index]] = [heap[index]!, heap[smallest]!];
        index = smallest;
      }
    }
    return top;
  }
}

function less(a: Entry, b: Entry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
