// What every conformance case gets: the store under test (fresh per test), its raw rows, and
// small helpers that keep the cases about behaviour rather than set-up.
import { expect } from 'vitest';
import type { Connection, ErrorCode, MessageMeta, MetadataStore, RecordLink, StoredMessage } from '@threadlink/core/store';
import { snapshot, type StoreRawAccess } from './raw.js';

export interface ConformanceContext {
  /** The store of the running test. */
  readonly store: MetadataStore;
  readonly raw: StoreRawAccess;
}

/** Saves the connection and syncs the messages and links into it in one batch. */
export async function seed(
  store: MetadataStore,
  connection: Connection,
  messages: MessageMeta[] = [],
  links: RecordLink[] = [],
  cursor?: string,
): Promise<void> {
  await store.saveConnection(connection);
  if (messages.length > 0 || links.length > 0 || cursor !== undefined) {
    await store.applySync(connection.id, { upserts: messages, deletes: [], links, ...(cursor === undefined ? {} : { cursor }) });
  }
}

/**
 * Asserts a ThreadlinkError with this code. Checked by name and code rather than instanceof so
 * a store built against another copy of @threadlink/core still passes.
 */
export async function expectError(promise: Promise<unknown>, code: ErrorCode): Promise<Error> {
  const outcome = await promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) expect.fail(`expected ThreadlinkError ${code}, but the call succeeded`);
  const error = outcome.error as { name?: unknown; code?: unknown; message?: unknown };
  expect({ name: error?.name, code: error?.code }, `expected ThreadlinkError ${code}, got ${String(error?.message ?? error)}`).toEqual({
    name: 'ThreadlinkError',
    code,
  });
  return outcome.error as Error;
}

/** Runs `action` (expected to be refused) and asserts not one physical row changed. */
export async function expectNothingWritten(raw: StoreRawAccess, action: () => Promise<void>): Promise<void> {
  const before = snapshot(await raw.dump());
  await action();
  expect(snapshot(await raw.dump())).toEqual(before);
}

/** A stored message as written (no links): what getMessage answers minus `links`. */
export function withoutLinks(message: StoredMessage | null): MessageMeta | null {
  if (!message) return null;
  const { links: _links, ...meta } = message;
  return meta;
}

export function linkSummary(message: StoredMessage | null): Array<{ record: string; manual: boolean; suppressed: boolean; reason: string }> {
  return (message?.links ?? [])
    .map((link) => ({ record: `${link.record.type}:${link.record.id}`, manual: link.manual, suppressed: link.suppressed, reason: link.reason }))
    .sort((left, right) => (left.record < right.record ? -1 : left.record > right.record ? 1 : 0));
}

export const byBinary = (left: string, right: string): number => (left < right ? -1 : left > right ? 1 : 0);
