// Matching after the fact: a record the CRM just gained is linked to the messages already stored
// (and, through thread inheritance, to their replies), and a user's manual link, unlink or reset
// of one message.
import type { ManualLinkInput, Scope } from '../api.js';
import { checkScope, type CoreContext } from '../context.js';
import { RecordRef as RecordRefSchema, type RecordLink, type RecordRef } from '../domain/schemas.js';
import type { ResolvedRecord } from '../ports/record-resolver.js';
import { isInheritable } from './inheritance.js';

/** Messages read per store round trip while rematching. */
const PAGE_SIZE = 500;

export function createRematching(context: CoreContext) {
  const { store, matcher, clock } = context;

  // Tenant-wide whatever the scope's user: a link is not a read, and a record belongs to every
  // mailbox of the tenant (who may see the linked messages is decided when they are read).
  async function rematch(record: ResolvedRecord, rawScope: Scope): Promise<{ linked: number }> {
    const scope = checkScope(rawScope);
    await context.init();
    RecordRefSchema.parse({ type: record.type, id: record.id, ...(record.label ? { label: record.label } : {}) });
    const query = matcher.rematchQuery(record);
    const now = clock.now();
    const accounts = new Map<string, string | null>();
    const accountOf = async (connectionId: string): Promise<string | null> => {
      if (!accounts.has(connectionId)) accounts.set(connectionId, (await store.getConnection(connectionId))?.accountEmail ?? null);
      return accounts.get(connectionId) ?? null;
    };
    let linked = 0;
    const seeds = new Map<string, RecordLink[]>();
    let after: string | null = null;
    do {
      const page = await store.findMessageIds(scope.tenantId, query, { limit: PAGE_SIZE, after });
      const messages = await store.getMessages(scope.tenantId, page.ids);
      const links: RecordLink[] = [];
      for (const message of messages) {
        const accountEmail = await accountOf(message.connectionId);
        const found = matcher.linksForRecord(message, record, now, accountEmail ? { accountEmail } : {});
        links.push(...found);
        // The links that pass down a thread are the ones that do at sync time: one rule, one home.
        const inheritable = found.filter(isInheritable);
        if (inheritable.length > 0) seeds.set(message.threadId, [...(seeds.get(message.threadId) ?? []), ...inheritable]);
      }
      linked += await store.addLinks(scope.tenantId, links);
      after = page.next;
    } while (after);
    if (seeds.size > 0) {
      // Thread inheritance, retroactively: replies that lost the reference land on the job too.
      let threadAfter: string | null = null;
      do {
        const page = await store.findMessageIds(scope.tenantId, { threadIds: [...seeds.keys()] }, { limit: PAGE_SIZE, after: threadAfter });
        const messages = await store.getMessages(scope.tenantId, page.ids);
        const inherited = messages.flatMap((message) => matcher.inheritedLinks(message, seeds.get(message.threadId) ?? [], now));
        linked += await store.addLinks(scope.tenantId, inherited);
        threadAfter = page.next;
      } while (threadAfter);
    }
    return { linked };
  }

  async function manualLink(messageId: string, record: RecordRef, scope: ManualLinkInput & { suppressed: boolean }): Promise<RecordLink> {
    const { message } = await context.messageFor(messageId, scope);
    const link: RecordLink = {
      messageId: message.id,
      record: RecordRefSchema.parse(record),
      rule: 'manual',
      reason: scope.reason ?? (scope.suppressed ? `unlinked by ${scope.userId ?? 'an admin'}` : `linked by ${scope.userId ?? 'an admin'}`),
      confidence: 1,
      manual: true,
      suppressed: scope.suppressed,
      createdAt: clock.now(),
    };
    await store.saveManualLink(scope.tenantId, link);
    return link;
  }

  return {
    rematch,
    async explain(messageId: string, scope: Scope): Promise<RecordLink[]> {
      return (await context.messageFor(messageId, scope)).message.links;
    },
    link: (messageId: string, record: RecordRef, scope: ManualLinkInput) => manualLink(messageId, record, { ...scope, suppressed: false }),
    unlink: (messageId: string, record: RecordRef, scope: ManualLinkInput) => manualLink(messageId, record, { ...scope, suppressed: true }),
    async reset(messageId: string, record: RecordRef, scope: Scope): Promise<boolean> {
      const { message } = await context.messageFor(messageId, scope);
      return store.removeLink(scope.tenantId, message.id, RecordRefSchema.parse(record));
    },
  };
}
