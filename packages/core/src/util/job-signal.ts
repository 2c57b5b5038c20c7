// A signal of a job's own, aborted when the engine's is. Provider sessions are opened with it, never
// with the engine's long-lived signal: libraries link their own per-request signals to the one they
// are given (gaxios, under the Gmail adapter, does `AbortSignal.any([signal, AbortSignal.timeout(t)])`
// for every request), and Node 20 keeps a WeakRef to each such linked signal in the source signal
// for as long as the source lives. On the engine's signal that was one entry per Gmail call for the
// life of the process (the soak's heap snapshots: +3,900 WeakRefs in 5 minutes at 20 messages/s);
// on a job's signal they go with the job.
import { setMaxListeners } from 'node:events';

export interface JobSignal {
  readonly signal: AbortSignal;
  /** The job is over: the engine's signal forgets it. */
  release(): void;
}

export function jobSignal(engine: AbortSignal): JobSignal {
  const controller = new AbortController();
  // A job's calls may wait on it in parallel (batches in flight, quota waits, retries' sleeps).
  setMaxListeners(50, controller.signal);
  if (engine.aborted) {
    controller.abort(engine.reason);
    return { signal: controller.signal, release: () => {} };
  }
  const abort = (): void => controller.abort(engine.reason);
  engine.addEventListener('abort', abort, { once: true });
  return { signal: controller.signal, release: () => engine.removeEventListener('abort', abort) };
}
