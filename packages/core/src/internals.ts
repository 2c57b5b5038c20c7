// The parts behind a Threadlink object, for tests and benchmarks (`@threadlink/core/testing`),
// kept off the public object. The registry hangs off a global symbol, not a module variable:
// the published entries are bundled separately (and ESM and CJS copies may both be loaded), so a
// module-level WeakMap in one bundle would be invisible to `internalsOf` in another.
import type { Threadlink } from './api.js';
import type { SyncEngine } from './engine/sync-engine.js';
import type { Matcher } from './matching/index.js';
import type { JobQueue } from './ports/job-queue.js';
import type { MetadataStore } from './ports/metadata-store.js';
import type { Sealer } from './security/sealing.js';

export interface ThreadlinkInternals {
  engine: SyncEngine;
  store: MetadataStore;
  queue: JobQueue;
  matcher: Matcher;
  sealer: Sealer;
}

const REGISTRY = Symbol.for('@threadlink/core/internals');

function registry(): WeakMap<Threadlink, ThreadlinkInternals> {
  const holder = globalThis as { [REGISTRY]?: WeakMap<Threadlink, ThreadlinkInternals> };
  return (holder[REGISTRY] ??= new WeakMap());
}

export function registerInternals(threadlink: Threadlink, internals: ThreadlinkInternals): void {
  registry().set(threadlink, internals);
}

/** The engine, store, queue, matcher and sealer behind a Threadlink made by createThreadlink. */
export function internalsOf(threadlink: Threadlink): ThreadlinkInternals {
  const internals = registry().get(threadlink);
  if (!internals) throw new TypeError('internalsOf() needs an object returned by createThreadlink()');
  return internals;
}
