// The security suite: every attack of src/attacks.ts against a live deployment (real HTTP, the
// Gmail/Pub/Sub and Graph emulators, the real consent flows) on the memory store and on
// PostgreSQL (PGlite without DATABASE_URL), then one table: attack → status → state changed? →
// expected. SECURITY.md's threat model points at these rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATTACKS, type SecurityTarget, type Snapshot } from '../src/attacks.js';
import { connectedWorld } from '../src/fixture.js';
import { sqlKind, type StoreKind } from '../src/stores.js';

const rows: Array<{ store: StoreKind; attack: string; status: string; 'state changed?': string; expected: string; verdict: string }> = [];

async function securityTarget(storeKind: StoreKind): Promise<SecurityTarget> {
  const fixture = await connectedWorld({ storeKind, seed: 17, tenantId: 't-security' });
  const { world } = fixture;
  const secondTenant = 't-security-second';
  const secondGmail = await world.connect('gmail', fixture.gmailEmail, { tenantId: secondTenant, userId: 'user-second' });
  const secondOutlook = await world.connect('outlook', fixture.outlookEmail, { tenantId: secondTenant, userId: 'user-second' });
  await world.settle();
  const snapshot = async (): Promise<Snapshot> => {
    const connections = await world.backend.primary.listConnections({});
    return {
      providerCalls: fixture.providerCalls(),
      acceptedHints: world.events
        .filter((event) => event.name === 'notification.received')
        .reduce((sum, event) => sum + (JSON.parse(event.json) as { hints: number }).hints, 0),
      synced: fixture.eventCount('message.synced'),
      connections: JSON.stringify(
        connections.map((connection) => [connection.id, connection.status, connection.subscription, connection.cursor, connection.sealedTokens]),
      ),
      storeCalls: (world.storeCalls.get('listConnections') ?? 0) + (world.storeCalls.get('getConnection') ?? 0),
    };
  };
  return {
    ...fixture,
    secondGmail: { id: secondGmail.id, tenantId: secondTenant },
    secondOutlook: { id: secondOutlook.id, tenantId: secondTenant },
    pushToken: () => world.google.createJwt(),
    snapshot,
  };
}

for (const storeKind of ['memory', sqlKind()] as const) {
  describe(`threadlink withstands every listed attack (${storeKind} store)`, () => {
    let target: SecurityTarget;
    beforeAll(async () => {
      target = await securityTarget(storeKind);
    }, 120_000);
    afterAll(() => target?.world.close());

    for (const attack of ATTACKS) {
      it(`${attack.name}: ${attack.expected}`, async () => {
        let verdict = 'held';
        try {
          const outcome = await attack.run(target);
          rows.push({
            store: storeKind,
            attack: attack.name,
            status: String(outcome.status),
            'state changed?': outcome.stateChanged ? 'yes' : 'no',
            expected: attack.expected,
            verdict,
          });
        } catch (error) {
          verdict = `FAILED: ${(error as Error).message}`;
          rows.push({ store: storeKind, attack: attack.name, status: '-', 'state changed?': '-', expected: attack.expected, verdict });
          throw error;
        }
        expect(verdict).toBe('held');
      });
    }
  });
}

afterAll(() => {
  // The proof, printed: one row per attack and store.
  console.table(rows);
});
