// What every provider conformance case gets: `open()` builds the test's world (emulator driver,
// adapter, threadlink, store), closed by the suite after the test; and small read helpers that go
// through threadlink's public API only.
import type { MessageMeta, RecordRef, ThreadlinkEvents } from '@threadlink/core';
import type { StoredMessage, Threadlink, ThreadlinkEventName } from '@threadlink/core';
import type { RecordedEvent } from '../common/record-events.js';
import { TENANT, type ProviderWorld, type WorldOptions } from './world.js';

export interface ProviderConformanceContext {
  open(options?: WorldOptions): Promise<ProviderWorld>;
}

/** Every stored message of a connection, as `tl.connections.export` hands them out. */
export async function storedMessages(tl: Threadlink, connectionId: string): Promise<MessageMeta[]> {
  const messages: MessageMeta[] = [];
  for await (const record of tl.connections.export(connectionId, { tenantId: TENANT, as: 'admin' })) {
    if (record.kind === 'message') messages.push(record.data);
  }
  return messages;
}

/** The one stored message with this subject (fails when there is none or more than one). */
export async function storedBySubject(tl: Threadlink, connectionId: string, subject: string): Promise<StoredMessage> {
  const matching = (await storedMessages(tl, connectionId)).filter((message) => message.subject === subject);
  if (matching.length !== 1) throw new Error(`expected one stored message "${subject}", found ${matching.length}`);
  return tl.messages.get(matching[0]!.id, { tenantId: TENANT, as: 'admin' });
}

/** The messages on a record's timeline, thread by thread (newest thread first), oldest message first within one. */
export async function timelineMessages(tl: Threadlink, record: RecordRef): Promise<StoredMessage[]> {
  const timeline = await tl.timeline.forRecord(record, { tenantId: TENANT, as: 'admin', limit: 200 });
  return timeline.threads.flatMap((thread) => thread.messages);
}

export function eventsNamed<K extends ThreadlinkEventName>(events: RecordedEvent[], name: K): Array<ThreadlinkEvents[K]> {
  return events.filter((event) => event.name === name).map((event) => event.payload as ThreadlinkEvents[K]);
}

export function linkKeys(message: StoredMessage): string[] {
  return message.links
    .filter((link) => !link.suppressed)
    .map((link) => `${link.record.type}:${link.record.id}${link.manual ? ' (manual)' : ''}`)
    .sort();
}

/** Dates a minute apart, an hour ago onwards, on whole seconds (Graph stamps to the second). */
export function minutesApart(count: number): Date[] {
  const start = Math.floor((Date.now() - 3_600_000) / 1_000) * 1_000;
  return Array.from({ length: count }, (_, index) => new Date(start + index * 60_000));
}
