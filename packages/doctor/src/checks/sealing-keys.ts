// Tokens are sealed with AES-256-GCM under the first key; every listed key opens. A key that is
// not 32 bytes makes createThreadlink throw at start; a lost key orphans every stored token.
import { createSealer, type SealingKey } from '@threadlink/core';
import type { DoctorCheck } from '../check.js';
import { fail, pass } from '../report.js';

const GENERATE = "node -e \"console.log(require('node:crypto').randomBytes(32).toString('base64url'))\"";

function decodedLength(key: string): number {
  if (/^[0-9a-f]{64}$/i.test(key)) return 32;
  return Math.max(Buffer.from(key, 'base64url').length, Buffer.from(key, 'base64').length);
}

function problemWith(key: SealingKey, index: number): string | undefined {
  const label = key.id ? `"${key.id}"` : `#${index + 1}`;
  if (!key.id) return `key ${label} has no id (expected id:key)`;
  try {
    createSealer([key]);
    return undefined;
  } catch (error) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(key.id)) return `key ${label} has an invalid id (letters, digits, _ and - only, at most 64)`;
    if (!key.key) return `key ${label} is empty`;
    return `key ${label} decodes to ${decodedLength(key.key)} bytes, not 32 (${(error as Error).message.split(';')[0]})`;
  }
}

export const sealingKeys: DoctorCheck = {
  id: 'sealing-keys',
  area: 'general',
  title: 'Sealing keys are present and 32 bytes',
  variables: ['THREADLINK_SEALING_KEY'],
  async run({ config }) {
    const keys = config.sealingKeys ?? [];
    if (keys.length === 0) {
      return fail(
        'No sealing key is set (THREADLINK_SEALING_KEY), so createThreadlink cannot store tokens.',
        `Generate one with ${GENERATE} and set THREADLINK_SEALING_KEY=<key> (THREADLINK_SEALING_KEY_ID=<id> to name it); keep it in your secret store, because losing it orphans every connected mailbox.`,
      );
    }
    const problems = keys.map(problemWith).filter((problem): problem is string => problem !== undefined);
    if (problems.length > 0) {
      return fail(
        `${problems.join('; ')}.`,
        `Each key must be 32 random bytes as base64url, base64 or hex (generate with ${GENERATE}); write them as THREADLINK_SEALING_KEYS=id:key,id2:key2.`,
      );
    }
    try {
      const sealer = createSealer(keys);
      if (sealer.open(sealer.seal('threadlink-doctor', 'doctor'), 'doctor') !== 'threadlink-doctor') throw new Error('round trip changed the value');
    } catch (error) {
      return fail(
        `The keys do not work together: ${(error as Error).message}.`,
        'Give every key a distinct id (old keys keep their original id so stored tokens still open).',
      );
    }
    const [current, ...older] = keys;
    return pass(
      `${keys.length} key${keys.length === 1 ? '' : 's'}, each 32 bytes; "${current?.id}" seals new tokens${older.length > 0 ? `, ${older.map((key) => `"${key.id}"`).join(', ')} still open older ones` : ''}.`,
    );
  },
};
