import { describe, expect, it } from 'vitest';
import type { Connection } from '../src/domain/schemas.js';
import { LOOKUP_TTL_MS, rememberedAccountLookup } from '../src/webhooks/account-lookups.js';

const connection = (id: string): Connection => ({ id, health: { consecutiveErrors: 0 } }) as unknown as Connection;

function setup(answers: Map<string, Connection[]>) {
  let now = 1_000_000;
  const reads: string[] = [];
  const lookup = rememberedAccountLookup(
    async (provider, accountEmail) => {
      reads.push(`${provider}:${accountEmail}`);
      return (answers.get(accountEmail) ?? []).map((found) => structuredClone(found));
    },
    { now: () => now, sleep: async () => undefined },
  );
  return { lookup, reads, advance: (ms: number) => (now += ms) };
}

describe("webhook intake's mailbox look-ups", () => {
  it('reads the store once for a burst of pushes, again once the burst is over', async () => {
    const { lookup, reads, advance } = setup(new Map([['ana@acme.test', [connection('c1')]]]));
    expect(await lookup('gmail', 'ana@acme.test')).toEqual({ connections: [connection('c1')], remembered: false });
    advance(LOOKUP_TTL_MS - 1);
    expect(await lookup('gmail', 'ana@acme.test')).toEqual({ connections: [connection('c1')], remembered: true });
    expect(reads).toHaveLength(1);
    advance(1);
    expect((await lookup('gmail', 'ana@acme.test')).remembered).toBe(false);
    expect(reads).toHaveLength(2);
  });

  it('never remembers an address with no connection, so a mailbox connected a moment later gets its first push', async () => {
    const answers = new Map<string, Connection[]>();
    const { lookup, reads } = setup(answers);
    expect((await lookup('gmail', 'new@acme.test')).connections).toEqual([]);
    answers.set('new@acme.test', [connection('c2')]);
    expect((await lookup('gmail', 'new@acme.test')).connections).toEqual([connection('c2')]);
    expect(reads).toHaveLength(2);
  });

  it('hands out copies: a caller changing what it got does not change what the next push sees', async () => {
    const { lookup } = setup(new Map([['ana@acme.test', [connection('c1')]]]));
    const first = await lookup('gmail', 'ana@acme.test');
    first.connections[0]!.health.lastPushAt = 42;
    const second = await lookup('gmail', 'ana@acme.test');
    expect(second.connections[0]!.health.lastPushAt).toBeUndefined();
  });

  it('shares one frozen answer across a burst instead of copying it per push: changing it throws', async () => {
    const { lookup } = setup(new Map([['ana@acme.test', [connection('c1')]]]));
    await lookup('gmail', 'ana@acme.test');
    const first = await lookup('gmail', 'ana@acme.test');
    const second = await lookup('gmail', 'ana@acme.test');
    expect(first.remembered && second.remembered).toBe(true);
    expect(second.connections[0]).toBe(first.connections[0]);
    expect(() => {
      first.connections[0]!.health.lastPushAt = 42;
    }).toThrow(TypeError);
    expect(second.connections[0]!.health.lastPushAt).toBeUndefined();
  });
});

describe("webhook intake's mailbox look-ups over a long run", () => {
  it('holds only the answers of the last moment, however many addresses pushed before', async () => {
    const answers = new Map(Array.from({ length: 1_000 }, (_, index) => [`user${index}@acme.test`, [connection(`c${index}`)]]));
    const { lookup, advance } = setup(answers);
    // 1,000 mailboxes pushing one after another, 100 ms apart: 20 of them inside one LOOKUP_TTL_MS.
    for (const address of answers.keys()) {
      await lookup('gmail', address);
      advance(100);
    }
    expect(lookup.size).toBeLessThanOrEqual(LOOKUP_TTL_MS / 100 + 1);
    expect((await lookup('gmail', 'user0@acme.test')).remembered).toBe(false);
  });
});
