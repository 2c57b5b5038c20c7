// Records every threadlink event in order, so tests can assert what a host would have seen.
import { THREADLINK_EVENT_NAMES, type ThreadlinkEventName, type ThreadlinkEvents } from '@threadlink/core';

/** One emitted event; narrowing on `name` narrows `payload`. */
export type RecordedEvent = { [K in ThreadlinkEventName]: { name: K; payload: ThreadlinkEvents[K] } }[ThreadlinkEventName];

export interface EventRecorder {
  readonly events: RecordedEvent[];
  named<K extends ThreadlinkEventName>(name: K): Array<ThreadlinkEvents[K]>;
  /** Stops recording. */
  stop(): void;
}

export function recordEvents(tl: { on<K extends ThreadlinkEventName>(name: K, listener: (payload: ThreadlinkEvents[K]) => void): () => void }): EventRecorder {
  const events: RecordedEvent[] = [];
  const offs = THREADLINK_EVENT_NAMES.map((name) => tl.on(name, (payload) => events.push({ name, payload } as RecordedEvent)));
  return {
    events,
    named: <K extends ThreadlinkEventName>(name: K) => events.filter((event) => event.name === name).map((event) => event.payload as ThreadlinkEvents[K]),
    stop: () => {
      for (const off of offs) off();
    },
  };
}
