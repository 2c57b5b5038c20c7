import { describe, expect, it } from 'vitest';
import { memoryStore, memoryStoreRaw } from '@threadlink/storage-memory';
import { makeConnection, makeMessage } from '@threadlink/testing';

describe('memoryStore', () => {
  it('is named, and exposes its raw rows through memoryStoreRaw and store.raw alike', async () => {
    expect(memoryStore().name).toBe('memory');
    const store = memoryStore({ name: 'demo' });
    expect(store.name).toBe('demo');
    const connection = makeConnection();
    await store.saveConnection(connection);
    await store.applySync(connection.id, { upserts: [makeMessage(connection)], deletes: [], links: [] });
    expect(await memoryStoreRaw(store).dump()).toEqual(await store.raw.dump());
    expect((await store.raw.dump()).messages).toHaveLength(1);
  });

  it('refuses raw access to a store it did not create', () => {
    const imposter = { ...memoryStore() };
    expect(() => memoryStoreRaw(imposter)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('keeps two stores apart', async () => {
    const first = memoryStore();
    const second = memoryStore();
    const connection = makeConnection();
    await first.saveConnection(connection);
    expect(await second.getConnection(connection.id)).toBeNull();
  });

  it('hands out a dump that callers cannot use to change the store', async () => {
    const store = memoryStore();
    const connection = makeConnection();
    await store.saveConnection(connection);
    const dump = await store.raw.dump();
    (dump.connections?.[0] as { status: string }).status = 'disconnected';
    dump.connections?.splice(0);
    expect((await store.getConnection(connection.id))?.status).toBe('live');
  });
});
