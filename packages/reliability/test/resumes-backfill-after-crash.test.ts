// Regression (found by the chaos run, seed 1): a process killed during back-fill lost the
// in-process back-fill job, and nothing ever re-queued it — the connection stayed 'backfilling'
// and the older mail was never synced. maintain() must pick unfinished back-fills up again.
import { afterEach, describe, expect, it } from 'vitest';
import { expectedGmail, expectedOutlook } from '../src/ground-truth.js';
import { seededRandom } from '../src/random.js';
import { createWorld, type CrashPoint, type World } from '../src/world.js';

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe('back-fill after a crash', () => {
  for (const [provider, point] of [
    ['gmail', 'after-commit'],
    ['gmail', 'before-commit'],
    ['outlook', 'after-commit'],
  ] as Array<['gmail' | 'outlook', CrashPoint]>) {
    it(`${provider}: a process killed ${point === 'after-commit' ? 'right after' : 'right before'} a back-fill page commits is resumed by maintain() on a new process`, async () => {
      world = await createWorld({ random: seededRandom(7), storeKind: 'memory', engine: { backfillPageSize: 5 } });
      const email = provider === 'gmail' ? 'ana@acme.test' : 'cleo@contoso.test';
      if (provider === 'gmail') world.google.addMailbox({ email });
      else world.microsoft.addMailbox({ email });
      for (let index = 0; index < 17; index += 1) {
        const mail = { from: 'buyer@bigco.test', to: email, subject: `Older mail ${index}`, text: 'hello' };
        if (provider === 'gmail') await world.google.deliver(mail);
        else await world.microsoft.deliver(mail);
      }
      const first = world.instances[0]!;
      first.arm(point);
      const connection = await world.connect(provider, email);
      // settle() replaces the dead process (after its lease lapsed); nothing else runs maintain().
      await world.settle();
      expect(first.alive).toBe(false);
      expect(world.crashes).toEqual([point]);

      await world.any().tl.maintain();
      await world.settle();

      const stored = await world.backend.primary.listProviderMessageIds(connection.id);
      const expected = provider === 'gmail' ? expectedGmail(world.google, email) : expectedOutlook(world.microsoft, email);
      expect(stored.sort()).toEqual([...expected.keys()].sort());
      expect((await world.any().tl.connections.get(connection.id, { tenantId: world.tenantId, as: 'admin' })).status).toBe('live');
    });
  }
});
