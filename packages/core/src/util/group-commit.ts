// Group commit: calls of one kind made in the same turn of the event loop, or while an earlier
// round trip of that kind is in flight, go to the store together, as ONE statement (issue 21: a
// push or a sync job's start costs a fraction of a transaction when many arrive together). A call
// alone is sent on the next turn (setImmediate): no timer adds latency to a quiet instance. Busy
// (a round trip of the kind went out a moment ago), a call waits a little for company, and the
// batch also grows by itself with the round trip's duration, as a database's group commit does.
import { performance } from 'node:perf_hooks';

/** One round trip of a kind at a time: whatever arrives meanwhile waits for it and goes together. */
const MAX_IN_FLIGHT = 1;
/** A call within this long of the last round trip of its kind finds the instance busy... */
const BUSY_WITHIN_MS = 20;
/** ...and waits this long for others to share the round trip with. */
const BUSY_WAIT_MS = 2;

interface Pending<T, R> {
  item: T;
  resolve(result: R): void;
  reject(error: unknown): void;
}

/**
 * `flush` answers a batch in the order given (one result per item); its failure fails every call of
 * the batch. Returns the function callers use one item at a time.
 */
export function groupCommit<T, R>(flush: (items: T[]) => Promise<R[]>, maxBatch = 256): (item: T) => Promise<R> {
  const pending: Pending<T, R>[] = [];
  let scheduled = false;
  let inFlight = 0;
  let lastSentAt = Number.NEGATIVE_INFINITY;

  const send = (): void => {
    scheduled = false;
    while (pending.length > 0 && inFlight < MAX_IN_FLIGHT) {
      lastSentAt = performance.now();
      const batch = pending.splice(0, maxBatch);
      inFlight += 1;
      Promise.resolve()
        .then(() => flush(batch.map((entry) => entry.item)))
        .then(
          (results) => {
            for (const [index, entry] of batch.entries()) entry.resolve(results[index] as R);
            done();
          },
          (error: unknown) => {
            for (const entry of batch) entry.reject(error);
            done();
          },
        );
    }
  };
  const done = (): void => {
    inFlight -= 1;
    // What arrived during the round trip goes at once: it has waited one already.
    if (pending.length > 0) send();
  };

  return (item) =>
    new Promise<R>((resolve, reject) => {
      pending.push({ item, resolve, reject });
      if (!scheduled && inFlight < MAX_IN_FLIGHT) {
        scheduled = true;
        if (performance.now() - lastSentAt < BUSY_WITHIN_MS) setTimeout(send, BUSY_WAIT_MS);
        else setImmediate(send);
      }
    });
}
