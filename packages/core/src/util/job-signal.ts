// A signal of its own that follows a longer-lived one, and is let go explicitly. Libraries link their
// own per-request signals to the one they are given (gaxios, under the Gmail adapter, did
// `AbortSignal.any([signal, AbortSignal.timeout(t)])` for every request), and Node 20 keeps a WeakRef
// to each such linked signal in the source signal for as long as the source lives; an
// `AbortSignal.timeout` also fires after its work is long done (a DOMException and an abort event).
// A linked signal instead holds one listener on its parent and at most one timer, both dropped by
// `release()`. Used for a job's provider sessions (jobSignal: on the engine's signal the WeakRefs
// were one per Gmail call for the life of the process — the soak's heap snapshots, +3,900 in 5
// minutes at 20 messages/s), for each Gmail request's deadline, and by the Pub/Sub push emulator.
import { setMaxListeners } from 'node:events';

export interface LinkedSignal {
  readonly signal: AbortSignal;
  /** The work is over: the parent forgets this signal and the deadline's timer is cleared. */
  release(): void;
}

/**
 * Aborted when `parent` is (with its reason) or, with a `deadline`, after `deadline.ms` with
 * `deadline.reason()`. Already aborted when `parent` already is (no timer is started then).
 */
export function linkedSignal(parent: AbortSignal | undefined, deadline?: { ms: number; reason: () => unknown }): LinkedSignal {
  const controller = new AbortController();
  if (parent?.aborted) {
    controller.abort(parent.reason);
    return { signal: controller.signal, release: () => {} };
  }
  const abort = (): void => controller.abort(parent?.reason);
  parent?.addEventListener('abort', abort, { once: true });
  const timer = deadline === undefined ? undefined : setTimeout(() => controller.abort(deadline.reason()), deadline.ms);
  return {
    signal: controller.signal,
    release: () => {
      if (timer !== undefined) clearTimeout(timer);
      parent?.removeEventListener('abort', abort);
    },
  };
}

/**
 * The reason `AbortSignal.timeout` gives, for a request deadline passed to `linkedSignal`: a missed
 * deadline then reads (and providers classify it) as a timeout. Gmail and Outlook use it.
 */
export function deadlineMissed(): DOMException {
  return new DOMException('The operation was aborted due to timeout', 'TimeoutError');
}

/** A signal of a job's own, aborted when the engine's is; provider sessions are opened with it, never with the engine's. */
export function jobSignal(engine: AbortSignal): LinkedSignal {
  const linked = linkedSignal(engine);
  // A job's calls may wait on it in parallel (batches in flight, quota waits, retries' sleeps).
  setMaxListeners(50, linked.signal);
  return linked;
}
