// A push-triggered sync may be narrowed to the parts of the mailbox its hint named (Outlook: the
// folders whose subscriptions fired). The scope travels in the job's data, sorted and joined, and
// is part of the job's dedupe key: a waiting job only absorbs a request it fully covers, so
// coalescing can never drop a folder. A sync without scope pulls everything, and covers any sync.
import type { Job } from '../ports/job-queue.js';

/** Sorted, without repeats: equal scopes give equal keys. */
export function normalizeScope(scope: readonly string[] | undefined): string[] | undefined {
  if (!scope || scope.length === 0) return undefined;
  return [...new Set(scope)].sort();
}

export function scopeOf(job: Job): string[] | undefined {
  const scope = job.data?.scope;
  return typeof scope === 'string' && scope.length > 0 ? scope.split(',') : undefined;
}

export const syncKey = (connectionId: string, scope?: readonly string[]): string =>
  scope && scope.length > 0 ? `sync:${connectionId}:${scope.join(',')}` : `sync:${connectionId}`;

/** The queue's dedupe key for a job: one per connection and job name, and per scope for syncs. */
export const jobKey = (job: Job): string => (job.name === 'sync' ? syncKey(job.connectionId, scopeOf(job)) : `${job.name}:${job.connectionId}`);

/** Whether `waiting`, not started yet, will do all of `incoming`'s work (same job, scope a superset). */
export function covers(waiting: Job, incoming: Job): boolean {
  if (waiting.name !== incoming.name || waiting.connectionId !== incoming.connectionId) return false;
  const wide = scopeOf(waiting);
  if (!wide) return true;
  const narrow = scopeOf(incoming);
  return narrow?.every((part) => wide.includes(part)) ?? false;
}
