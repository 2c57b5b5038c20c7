import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startGraphEmulator, type GraphEmulator } from '../src/graph/index.js';
import { seededRandom } from '../src/index.js';
import { signIn } from './graph-clients.js';

// The emulator holds one `random`; reseeding the generator behind it replays a stream.
let generator = seededRandom(1).next;
let draws = 0;
let emulator: GraphEmulator;
let token: string;

beforeAll(async () => {
  emulator = await startGraphEmulator({
    random: () => {
      draws += 1;
      return generator();
    },
  });
  emulator.addMailbox({ email: 'sam@contoso.test', name: 'Sam' });
  token = (await signIn(emulator, 'sam@contoso.test')).result.accessToken;
});
afterAll(async () => {
  await emulator.close();
});

/**
 * A fixed request sequence (single calls and a $batch, whose inner requests roll too) under a
 * 50 % error rate and a little jitter; returns every status in order, inner batch ones included.
 */
async function statusesFor(seed: number): Promise<number[]> {
  generator = seededRandom(seed).next;
  Object.assign(emulator.faults, { errorRate: 0.5, jitterMs: 3 });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const statuses: number[] = [];
  try {
    for (let round = 0; round < 4; round += 1) {
      for (let call = 0; call < 6; call += 1) {
        statuses.push((await fetch(`${emulator.url}/v1.0/me`, { headers })).status);
      }
      const requests = Array.from({ length: 4 }, (_, index) => ({ id: String(index + 1), method: 'GET', url: '/me' }));
      const batch = await fetch(`${emulator.url}/v1.0/$batch`, { method: 'POST', headers, body: JSON.stringify({ requests }) });
      const body = (await batch.json()) as { responses: Array<{ id: string; status: number }> };
      statuses.push(...body.responses.sort((left, right) => Number(left.id) - Number(right.id)).map((response) => response.status));
    }
  } finally {
    Object.assign(emulator.faults, { errorRate: 0, jitterMs: 0 });
  }
  return statuses;
}

describe('seeded faults', () => {
  it('injects the same failures for the same seed and request sequence', async () => {
    const first = await statusesFor(42);
    const again = await statusesFor(42);
    const other = await statusesFor(43);
    expect(first).toHaveLength(40);
    // Both outcomes occur, so the comparison below says something.
    expect(first).toContain(503);
    expect(first).toContain(200);
    expect(again).toEqual(first);
    expect(other).not.toEqual(first);
  });

  it('rolls jitter and errorRate on the injected random, never on Math.random', async () => {
    const mathRandom = vi.spyOn(Math, 'random');
    draws = 0;
    try {
      await statusesFor(7);
    } finally {
      mathRandom.mockRestore();
    }
    // Per request one jitter roll (top-level and $batch only) and one errorRate roll (every request, inner ones too).
    expect(draws).toBe(4 * (6 * 2 + 1 + 4));
    expect(mathRandom).not.toHaveBeenCalled();
  });
});
