// Demo mode keeps its token-sealing key in the (git-ignored) data directory, so tokens stored
// by one run still open in the next. Real deployments pass THREADLINK_SEALING_KEY instead.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateSealingKey, type SealingKey } from '@threadlink/core';
import { z } from 'zod';

const StoredKey = z.strictObject({ id: z.string().min(1), key: z.string().min(1) });

export async function demoSealingKey(dataDir: string): Promise<SealingKey> {
  const file = join(dataDir, 'sealing-key.json');
  try {
    return StoredKey.parse(JSON.parse(await readFile(file, 'utf8')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key: SealingKey = { id: 'demo', key: generateSealingKey() };
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // `wx`: if two processes race on a fresh directory, the second fails instead of
  // overwriting a key the first may already have sealed tokens with.
  await writeFile(file, `${JSON.stringify(key)}\n`, { mode: 0o600, flag: 'wx' });
  return key;
}
