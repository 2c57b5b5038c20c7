import { afterEach, describe, expect, it } from 'vitest';
import { connectedHarness } from './support/harness.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

describe('health reasons', () => {
  it('names an expired push channel the same way for every provider', async () => {
    let offset = 0;
    const clock = { now: () => Date.now() + offset, sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.min(ms, 5))) };
    const { tl, connection } = await connectedHarness({ clock });
    stops.push(() => tl.stop());
    // The scripted mailbox's push channel lives 7 days; nothing renews it (maintain is never run).
    offset += 8 * 86_400_000;
    const health = await tl.health(connection.id, { tenantId: 't1', as: 'admin' });
    expect(health.verdict).toBe('stalled');
    expect(health.reason).toBe('the push channel expired 1440 min ago and was not renewed');
  });
});
