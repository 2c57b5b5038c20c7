// Issue 23, fault 1: PostgreSQL goes away mid-burst. Two shapes, one run:
//   - every connection of the store's pool killed by pg_terminate_backend while pushes and syncs
//     are in flight (a failover, an admin's kill), several times;
//   - the server unreachable for a while (a TCP proxy between the store and the shared server is
//     cut: resets on open connections, refused reconnects), as a stopped server looks to a client.
// What a user must see: pushes taken while the database is down are answered 503 + Retry-After
// (never 2xx-and-lost), the instance's health says degraded with the reason, the pool reconnects by
// itself, and afterwards the store equals the provider's truth: 0 missing, 0 extra, 0 duplicates.
// PostgreSQL only (PGlite has no server to lose): skipped without DATABASE_URL.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startOutageDeployment, type OutageDeployment } from '../src/outage-deployment.js';
import { seededRandom } from '../src/random.js';

const DATABASE_URL = process.env.DATABASE_URL;
const MAILBOXES = ['ana@acme.test', 'ben@acme.test', 'cleo@acme.test', 'dev@acme.test'];

let deployment: OutageDeployment | undefined;
afterEach(async () => {
  await deployment?.close();
  deployment = undefined;
});

describe.skipIf(!DATABASE_URL)('a database outage (PostgreSQL; set DATABASE_URL to run)', () => {
  it('answers pushes 503 while down, reports degraded, reconnects, and converges with nothing lost or doubled', async () => {
    const random = seededRandom(23);
    const d = (deployment = await startOutageDeployment(DATABASE_URL!));
    const { google, tl } = d;
    for (const email of MAILBOXES) google.addMailbox({ email });
    const connections = [];
    for (const email of MAILBOXES) connections.push(await d.connect(email));
    let sent = 0;
    const mail = async (count: number): Promise<void> => {
      for (let index = 0; index < count; index += 1) {
        const to = random.pick(MAILBOXES);
        sent += 1;
        await google.deliver({ from: 'buyer@bigco.test', to, subject: `Order ${sent}`, text: 'hello' });
      }
    };
    await mail(8);
    await google.flushNotifications();
    await tl.idle();
    expect(await d.verdict(connections)).toMatchObject({ missing: 0, extra: 0, duplicates: 0 });
    expect(await tl.health.instance({ tenantId: d.tenantId, as: 'admin' })).toEqual({ status: 'ok', reasons: [] });

    // 1. Connections killed under load: a burst, and the pool's backends terminated while it lands.
    d.phase = 'backends-terminated';
    let terminated = 0;
    const burst = mail(20);
    for (let round = 0; round < 6; round += 1) {
      await new Promise((resolve) => setTimeout(resolve, random.int(15, 45)));
      terminated += await d.terminateStoreBackends();
    }
    await burst;
    await google.flushNotifications();
    await tl.idle();
    expect(terminated).toBeGreaterThan(0);

    // 2. The server unreachable: pushes keep coming and must be refused so Pub/Sub redelivers.
    const acceptedBefore = d.proxy.accepted;
    d.proxy.cut();
    d.phase = 'database-down';
    await mail(12);
    await vi.waitFor(() => expect(d.answers.filter((answer) => answer.phase === 'database-down').length).toBeGreaterThanOrEqual(5), {
      timeout: 15_000,
      interval: 25,
    });
    const health = await tl.health.instance({ tenantId: d.tenantId, as: 'admin' });
    expect(health.status).toBe('degraded');
    expect(health.reasons.join(' ')).toMatch(/store unreachable/);
    const whileDown = d.answers.filter((answer) => answer.phase === 'database-down');
    expect(whileDown.filter((answer) => answer.status < 300)).toEqual([]);
    expect(new Set(whileDown.map((answer) => `${answer.status} ${answer.code} retry-after=${answer.retryAfter}`))).toEqual(
      new Set(['503 STORE_ERROR retry-after=5']),
    );

    // 3. Back: the pool reconnects on its own; redelivered pushes pull what arrived meanwhile.
    await d.proxy.restore();
    d.phase = 'recovered';
    await vi.waitFor(async () => expect((await tl.health.instance({ tenantId: d.tenantId, as: 'admin' })).status).toBe('ok'), {
      timeout: 10_000,
      interval: 100,
    });
    await google.flushNotifications();
    await tl.idle();
    expect(d.proxy.accepted).toBeGreaterThan(acceptedBefore);
    // Redelivered pushes alone (no safety-net pass yet) must bring every mailbox back.
    const afterPushes = await d.verdict(connections);
    // The safety net too, as production runs it every minute: it must find nothing left to do.
    await tl.maintain();
    await tl.idle();
    const final = await d.verdict(connections);
    console.log(
      `reliability: database outage — terminated=${terminated} refused-while-down=${whileDown.length} messages=${final.expected} missing=${final.missing} extra=${final.extra} duplicates=${final.duplicates}`,
    );
    expect(afterPushes).toEqual({ missing: 0, extra: 0, duplicates: 0, expected: sent });
    expect(final).toEqual({ missing: 0, extra: 0, duplicates: 0, expected: sent });
  });
});
