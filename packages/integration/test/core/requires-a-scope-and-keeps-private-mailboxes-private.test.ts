// Issue 17 (2): every call that names a connection, message or record takes a scope. Without a
// tenant, or without a user or an explicit `as: 'admin'`, it is SCOPE_REQUIRED and nothing happens.
// A user reads their own mailboxes and shared ones and changes only their own; another user of
// the tenant gets "not found" for a private mailbox; an admin scope does anything in its tenant.
import type { ExportRecord, Scope, Threadlink } from '@threadlink/core';
import { afterEach, describe, expect, it } from 'vitest';
import { connectedHarness } from './support/harness.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

const owner = { tenantId: 't1', userId: 'u1' } as const;
const colleague = { tenantId: 't1', userId: 'u2' } as const;
const admin = { tenantId: 't1', as: 'admin' } as const;
const otherTenantAdmin = { tenantId: 't2', as: 'admin' } as const;

async function connected() {
  const harness = await connectedHarness();
  stops.push(() => harness.tl.stop());
  harness.mailbox.add({ subject: 'Change request PRJ-1042' });
  await harness.tl.connections.sync(harness.connection.id, owner);
  await harness.tl.idle();
  const [thread] = (await harness.tl.timeline.forRecord({ type: 'client', id: 'c-bigco' }, owner)).threads;
  const messageId = thread!.messages[0]!.id;
  return { ...harness, messageId };
}

async function drain(records: AsyncGenerator<ExportRecord>): Promise<ExportRecord[]> {
  const all: ExportRecord[] = [];
  for await (const record of records) all.push(record);
  return all;
}

/** Every call that changes a mailbox or speaks as it: owner or admin only, shared or not. */
function mutations(tl: Threadlink, connectionId: string, messageId: string) {
  return {
    disconnect: (scope: Scope) => tl.connections.disconnect(connectionId, { ...scope, purge: true }),
    export: (scope: Scope) => drain(tl.connections.export(connectionId, scope)),
    setShared: (scope: Scope) => tl.connections.setShared(connectionId, true, scope),
    sync: (scope: Scope) => tl.connections.sync(connectionId, scope),
    resync: (scope: Scope) => tl.connections.resync(connectionId, scope),
    reply: (scope: Scope) => tl.messages.reply(messageId, { ...scope, text: 'Sent as someone else' }),
  };
}

describe('a call without a usable scope', () => {
  it('is SCOPE_REQUIRED for disconnect, health, health.all, export, setShared, sync and resync, and changes nothing', async () => {
    const { tl, store, connection, mailbox } = await connected();
    const id = connection.id;
    const unscoped: Array<[string, () => Promise<unknown>]> = [
      // Casts: a JavaScript host (or a stale call site) gets no type error, so run time must refuse too.
      ['disconnect without options', () => (tl.connections.disconnect as (id: string) => Promise<unknown>)(id)],
      ['disconnect with only purge', () => tl.connections.disconnect(id, { purge: true } as never)],
      ['health without scope', () => (tl.health as unknown as (id: string) => Promise<unknown>)(id)],
      ['health.all without scope', () => (tl.health.all as () => Promise<unknown>)()],
      ['health.all with an empty tenant', () => tl.health.all({ tenantId: '', as: 'admin' })],
      ['export without scope', () => drain((tl.connections.export as (id: string) => AsyncGenerator<ExportRecord>)(id))],
      ['setShared without scope', () => (tl.connections.setShared as (id: string, shared: boolean) => Promise<void>)(id, true)],
      ['sync without scope', () => (tl.connections.sync as (id: string) => Promise<void>)(id)],
      ['resync without scope', () => (tl.connections.resync as (id: string) => Promise<void>)(id)],
    ];
    for (const [label, call] of unscoped) await expect(call(), label).rejects.toMatchObject({ code: 'SCOPE_REQUIRED', status: 400 });
    expect(await store.getConnection(id)).toMatchObject({ status: 'live', shared: false });
    expect(mailbox.calls.revoke).toBe(0);
  });

  it('is SCOPE_REQUIRED with a tenant but neither a user nor as: admin, or with as set to anything else', async () => {
    const { tl, connection, messageId } = await connected();
    const tenantOnly = { tenantId: 't1' } as unknown as Scope;
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['connections.get', () => tl.connections.get(connection.id, tenantOnly)],
      ['connections.list', () => tl.connections.list(tenantOnly)],
      ['disconnect', () => tl.connections.disconnect(connection.id, tenantOnly)],
      ['health', () => tl.health(connection.id, tenantOnly)],
      ['health.all', () => tl.health.all(tenantOnly)],
      ['messages.get', () => tl.messages.get(messageId, tenantOnly)],
      ['timeline.forRecord', () => tl.timeline.forRecord({ type: 'client', id: 'c-bigco' }, tenantOnly)],
      ['matching.rematch', () => tl.matching.rematch({ type: 'client', id: 'c-bigco', emails: ['client@bigco.com'] }, tenantOnly)],
      // The old body form flag is no longer a scope: a stale call site is refused, not widened.
      ['messages.body with as: html', () => tl.messages.body(messageId, { tenantId: 't1', userId: 'u1', as: 'html' } as never)],
      ['user and admin at once', () => tl.messages.get(messageId, { tenantId: 't1', userId: 'u1', as: 'admin' } as never)],
    ];
    for (const [label, call] of calls) await expect(call(), label).rejects.toMatchObject({ code: 'SCOPE_REQUIRED' });
  });
});

describe('a private mailbox', () => {
  it('cannot be read, disconnected, exported, shared, synced or replied from by another user of the tenant', async () => {
    const { tl, store, connection, messageId, mailbox } = await connected();
    await expect(tl.connections.get(connection.id, colleague)).rejects.toMatchObject({ code: 'CONNECTION_NOT_FOUND' });
    await expect(tl.health(connection.id, colleague)).rejects.toMatchObject({ code: 'CONNECTION_NOT_FOUND' });
    expect(await tl.health.all(colleague)).toEqual([]);
    await expect(tl.messages.get(messageId, colleague)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(tl.messages.body(messageId, colleague)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await tl.timeline.forRecord({ type: 'client', id: 'c-bigco' }, colleague)).threads).toEqual([]);
    for (const [name, call] of Object.entries(mutations(tl, connection.id, messageId))) {
      await expect(call(colleague), name).rejects.toMatchObject({ code: name === 'reply' ? 'NOT_FOUND' : 'CONNECTION_NOT_FOUND' });
      // Another tenant's admin is a stranger too.
      await expect(call(otherTenantAdmin), name).rejects.toMatchObject({ code: name === 'reply' ? 'NOT_FOUND' : 'CONNECTION_NOT_FOUND' });
    }
    expect(await store.getConnection(connection.id)).toMatchObject({ status: 'live', shared: false });
    expect(mailbox.calls.revoke).toBe(0);
  });
});

describe('a shared mailbox', () => {
  it('is readable by every user of the tenant, but only its owner or an admin may change it or reply from it', async () => {
    const { tl, store, connection, messageId } = await connected();
    await tl.connections.setShared(connection.id, true, owner);
    expect((await tl.connections.get(connection.id, colleague)).shared).toBe(true);
    expect((await tl.health(connection.id, colleague)).connectionId).toBe(connection.id);
    expect((await tl.health.all(colleague)).map((entry) => entry.connectionId)).toEqual([connection.id]);
    expect((await tl.messages.get(messageId, colleague)).id).toBe(messageId);
    expect((await tl.timeline.forRecord({ type: 'client', id: 'c-bigco' }, colleague)).threads).toHaveLength(1);
    for (const [name, call] of Object.entries(mutations(tl, connection.id, messageId))) {
      await expect(call(colleague), name).rejects.toMatchObject({ code: name === 'reply' ? 'NOT_FOUND' : 'CONNECTION_NOT_FOUND' });
    }
    expect(await store.getConnection(connection.id)).toMatchObject({ status: 'live', shared: true });
  });
});

describe('the owner and an admin scope', () => {
  it('may do everything with the mailbox', async () => {
    for (const scope of [owner, admin] as const) {
      const { tl, store, connection, messageId, mailbox } = await connected();
      const calls = mutations(tl, connection.id, messageId);
      expect((await tl.health(connection.id, scope)).connectionId).toBe(connection.id);
      expect((await tl.health.all(scope)).map((entry) => entry.connectionId)).toEqual([connection.id]);
      expect((await calls.export(scope)).length).toBeGreaterThan(1);
      await calls.setShared(scope);
      await calls.sync(scope);
      await calls.resync(scope);
      await calls.reply(scope);
      await tl.idle();
      const result = await calls.disconnect(scope);
      expect(result.revoked).toBe(true);
      expect(mailbox.calls.revoke).toBe(1);
      expect(await store.getConnection(connection.id)).toBeNull();
    }
  });
});
