// Regression (the harness's own bug, the chaos run's "engine idle did not finish in time" flake,
// seed 4 about one run in five): a process killed while the suite was still delivering mail died
// with nobody waiting on its death. settle() then waited on the survivor, which retried the dead
// process's mailbox lease every 250 ms of wall time while that lease only lapses on the virtual
// clock — never. settle() must replace processes that died before it began.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { expectedGmail } from '../src/ground-truth.js';
import { seededRandom } from '../src/random.js';
import { createWorld, type World } from '../src/world.js';

let world: World | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

describe('settle after a crash between settles', () => {
  it('replaces a process that died before settle() began, and the survivor gets the mailbox', async () => {
    world = await createWorld({ random: seededRandom(11), storeKind: 'memory', engines: 2 });
    const email = 'ana@acme.test';
    world.google.addMailbox({ email });
    const connection = await world.connect('gmail', email);
    await world.settle();
    const before = world.instances.map((instance) => instance.number);

    // Whichever process takes the next push dies mid-pull, holding the mailbox lease, while nothing settles.
    for (const instance of world.instances) instance.arm('pull');
    await world.google.deliver({ from: 'buyer@bigco.test', to: email, subject: 'While nobody watched', text: 'hello' });
    await world.google.flushNotifications();
    const { crashes } = world;
    await vi.waitFor(() => expect(crashes).toEqual(['pull']), { timeout: 5_000, interval: 25 });
    for (const instance of world.instances) instance.disarm();
    // The next push reaches the survivor, whose sync now waits on the dead process's lease.
    await world.google.deliver({ from: 'buyer@bigco.test', to: email, subject: 'And one more', text: 'hello' });
    await world.google.flushNotifications();

    await world.settle(15_000);

    expect(world.alive()).toHaveLength(2);
    expect(world.instances.map((instance) => instance.number)).not.toEqual(before);
    const stored = await world.backend.primary.listProviderMessageIds(connection.id);
    expect(stored.sort()).toEqual([...expectedGmail(world.google, email).keys()].sort());
  });
});
