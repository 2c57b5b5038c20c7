// Provider tokens at rest: AES-256-GCM sealed (checked here with node:crypto independently of
// core's own code), never in clear in any table, log line or event; a key rotation keeps old
// connections working and re-seals them under the new key; a tampered seal does not open.
import { createDecipheriv, createHash } from 'node:crypto';
import { createSealer, generateSealingKey, type SealingKey } from '@threadlink/core';
import { describe, expect, it } from 'vitest';
import { connectedWorld } from '../src/fixture.js';
import { canaryHits } from '../src/ground-truth.js';
import { sqlKind, type StoreKind } from '../src/stores.js';

/** Opens `tl1.<keyId>.<iv>.<ciphertext+tag>` by hand: AES-256-GCM, AAD = sha256("threadlink:<purpose>"). */
function openIndependently(sealed: string, keys: SealingKey[]): { keyId: string; plaintext: string } {
  const [prefix, keyId, ivText, bodyText] = sealed.split('.');
  expect(prefix).toBe('tl1');
  const key = keys.find((candidate) => candidate.id === keyId);
  if (!key || !keyId || !ivText || !bodyText) throw new Error(`no key ${keyId}`);
  const body = Buffer.from(bodyText, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', Buffer.from(key.key, 'base64url'), Buffer.from(ivText, 'base64url'));
  decipher.setAAD(createHash('sha256').update('threadlink:provider-tokens').digest());
  decipher.setAuthTag(body.subarray(body.length - 16));
  const plaintext = Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8');
  return { keyId, plaintext };
}

const kinds: StoreKind[] = ['memory', sqlKind()];

describe.each(kinds)('tokens at rest on %s', (storeKind) => {
  it('are AES-256-GCM sealed, never in clear anywhere, survive a key rotation and re-seal under the new key', async () => {
    const fixture = await connectedWorld({ storeKind, seed: 53 });
    const { world, gmail, outlook, gmailEmail, outlookEmail } = fixture;
    try {
      const oldKeys = world.sealingKeys;
      const store = world.backend.primary;
      const secrets: string[] = [];
      for (const connection of [gmail, outlook]) {
        const sealed = (await store.getConnection(connection.id))!.sealedTokens;
        const { keyId, plaintext } = openIndependently(sealed, oldKeys);
        expect(keyId).toBe(oldKeys[0]!.id);
        const tokens = JSON.parse(plaintext) as { accessToken: string; refreshToken?: string };
        expect(tokens.accessToken.length).toBeGreaterThan(10);
        secrets.push(tokens.accessToken, ...(tokens.refreshToken ? [tokens.refreshToken] : []));
      }
      expect(secrets.length).toBeGreaterThanOrEqual(3);

      // A flipped bit anywhere in the seal is refused (GCM authenticates).
      const sealed = (await store.getConnection(gmail.id))!.sealedTokens;
      const tampered = sealed.slice(0, -3) + (sealed.at(-3) === 'A' ? 'B' : 'A') + sealed.slice(-2);
      expect(() => createSealer(oldKeys).open(tampered, 'provider-tokens')).toThrow();

      // Rotation: new processes seal with k2 and still open k1.
      const newKey: SealingKey = { id: 'k2', key: generateSealingKey() };
      world.sealingKeys = [newKey, ...oldKeys];
      await world.restartAll();
      const afterRotation = {
        gmail: await world.google.deliver({ from: 'buyer@bigco.test', to: gmailEmail, subject: 'After rotation', text: 'x' }),
        outlook: await world.microsoft.deliver({ from: 'buyer@bigco.test', to: outlookEmail, subject: 'After rotation', text: 'x' }),
      };
      await world.settle();
      expect(await store.getMessageByProviderId(gmail.id, afterRotation.gmail.id)).not.toBeNull();
      expect(await store.getMessageByProviderId(outlook.id, afterRotation.outlook.immutableId)).not.toBeNull();
      for (const connection of [gmail, outlook]) {
        const current = (await store.getConnection(connection.id))!;
        expect(current.status).toBe('live');
        expect(openIndependently(current.sealedTokens, world.sealingKeys).keyId).toBe('k2');
      }

      // Old key retired: everything was re-sealed, so k2 alone still works.
      world.sealingKeys = [newKey];
      await world.restartAll();
      const lastOne = await world.google.deliver({ from: 'buyer@bigco.test', to: gmailEmail, subject: 'Old key retired', text: 'x' });
      await world.settle();
      expect(await store.getMessageByProviderId(gmail.id, lastOne.id)).not.toBeNull();

      // Every token ever issued (refreshes included) stays out of tables, logs and events.
      for (const connection of [gmail, outlook]) {
        const tokens = JSON.parse(openIndependently((await store.getConnection(connection.id))!.sealedTokens, [newKey]).plaintext) as {
          accessToken: string;
          refreshToken?: string;
        };
        secrets.push(tokens.accessToken, ...(tokens.refreshToken ? [tokens.refreshToken] : []));
      }
      const dump = await world.backend.dump();
      const places = {
        ...Object.fromEntries(Object.entries(dump).map(([table, rows]) => [`table ${table}`, rows])),
        logs: world.logs.join('\n'),
        events: world.events.map((event) => event.json).join('\n'),
      };
      expect(world.logs.some((line) => line.includes('"level":"debug"'))).toBe(true);
      for (const secret of new Set(secrets)) expect(canaryHits(secret, places)).toEqual([]);
    } finally {
      await world.close();
    }
  });
});
