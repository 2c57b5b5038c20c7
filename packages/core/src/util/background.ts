// Work started by a request that outlives it (an organization's mailboxes opened after the admin's
// redirect): tracked so `tl.idle()` and `tl.stop()` wait for it instead of leaving it dangling.

export interface Background {
  /** Starts the task; it must not throw (log instead). */
  run(task: () => Promise<void>): void;
  /** Resolves when every task started so far (and any they started) has finished. */
  settled(): Promise<void>;
}

export function createBackground(): Background {
  const running = new Set<Promise<void>>();
  return {
    run(task) {
      const promise: Promise<void> = task().finally(() => running.delete(promise));
      running.add(promise);
    },
    async settled() {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
