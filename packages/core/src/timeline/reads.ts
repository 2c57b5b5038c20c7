// The reads a CRM page makes: a record's timeline and one thread, limited to the mailboxes the
// user may see.
import type { Scope, TimelineInput } from '../api.js';
import type { CoreContext } from '../context.js';
import { RecordRef as RecordRefSchema, type RecordRef } from '../domain/schemas.js';
import { withLabelNames, type LabeledMessage } from '../labels/names.js';
import { listThread } from '../store/reads.js';
import { chronological, DEFAULT_WHOLE_THREAD_TYPES, recordTimeline, type TimelineResult } from './timeline.js';

/** Timeline page size: the default, and the most one page may ask for. */
const DEFAULT_PAGE = 50;
const MAX_PAGE = 200;

export function createTimelineReads(context: CoreContext) {
  const { store } = context;
  const wholeThreadTypes = new Set(context.config.wholeThreadTypes ?? DEFAULT_WHOLE_THREAD_TYPES);
  return {
    async forRecord(record: RecordRef, input: TimelineInput): Promise<TimelineResult> {
      await context.init();
      const parsed = RecordRefSchema.parse(record);
      const connectionIds = await context.visibleConnectionIds(input);
      return recordTimeline(store, {
        tenantId: input.tenantId,
        record: parsed,
        limit: Math.min(Math.max(input.limit ?? DEFAULT_PAGE, 1), MAX_PAGE),
        after: input.after ?? null,
        wholeThreads: input.wholeThreads ?? wholeThreadTypes.has(parsed.type),
        ...(connectionIds ? { connectionIds } : {}),
      });
    },
    async thread(threadId: string, scope: Scope): Promise<LabeledMessage[]> {
      await context.init();
      const connectionIds = await context.visibleConnectionIds(scope);
      return withLabelNames(store, scope.tenantId, (await listThread(store, scope.tenantId, threadId, connectionIds)).sort(chronological));
    },
  };
}
