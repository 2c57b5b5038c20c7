// Secrets at rest (provider tokens) and in transit through the browser (OAuth state) are
// sealed with AES-256-GCM (node:crypto). Each sealed value names its key id, so keys rotate:
// the first key seals, every listed key still opens.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { ThreadlinkError } from '../errors.js';

export interface SealingKey {
  /** A short, stable identifier, e.g. '2026-11'. Stored next to each sealed value. */
  id: string;
  /** 32 random bytes as base64, base64url or hex. */
  key: string;
}

export interface Sealer {
  seal(plaintext: string, purpose: string): string;
  open(sealed: string, purpose: string): string;
  /** The key id a sealed value was made with (for re-sealing after rotation). */
  keyIdOf(sealed: string): string;
  readonly currentKeyId: string;
}

const PREFIX = 'tl1';

function decodeKey(key: SealingKey): Buffer {
  const candidates = [/^[0-9a-f]{64}$/i.test(key.key) ? Buffer.from(key.key, 'hex') : null, Buffer.from(key.key, 'base64url'), Buffer.from(key.key, 'base64')];
  const bytes = candidates.find((candidate) => candidate !== null && candidate.length === 32);
  if (!bytes) {
    throw new ThreadlinkError('CONFIG_INVALID', `Sealing key "${key.id}" must be 32 bytes (base64 or hex); generate one with generateSealingKey()`);
  }
  return bytes;
}

/** 32 random bytes, base64url: suitable for `sealingKeys: [{ id, key }]`. */
export function generateSealingKey(): string {
  return randomBytes(32).toString('base64url');
}

export function createSealer(keys: readonly SealingKey[]): Sealer {
  if (keys.length === 0) throw new ThreadlinkError('SEALING_KEY_MISSING', 'At least one sealing key is required to store tokens');
  const decoded = new Map<string, Buffer>();
  for (const key of keys) {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(key.id)) throw new ThreadlinkError('CONFIG_INVALID', 'Sealing key ids must match [A-Za-z0-9_-]{1,64}');
    if (decoded.has(key.id)) throw new ThreadlinkError('CONFIG_INVALID', `Duplicate sealing key id "${key.id}"`);
    decoded.set(key.id, decodeKey(key));
  }
  const current = keys[0]!;
  const aad = (purpose: string): Buffer => createHash('sha256').update(`threadlink:${purpose}`).digest();

  return {
    currentKeyId: current.id,
    seal(plaintext, purpose) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', decoded.get(current.id)!, iv);
      cipher.setAAD(aad(purpose));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${PREFIX}.${current.id}.${iv.toString('base64url')}.${body.toString('base64url')}`;
    },
    open(sealed, purpose) {
      const parts = sealed.split('.');
      if (parts.length !== 4 || parts[0] !== PREFIX) throw new ThreadlinkError('SEAL_INVALID', 'Not a sealed value');
      const [, keyId, ivText, bodyText] = parts as [string, string, string, string];
      const key = decoded.get(keyId);
      if (!key) throw new ThreadlinkError('SEALING_KEY_MISSING', `No sealing key with id "${keyId}" is configured`, { details: { keyId } });
      const iv = Buffer.from(ivText, 'base64url');
      const body = Buffer.from(bodyText, 'base64url');
      if (iv.length !== 12 || body.length < 16) throw new ThreadlinkError('SEAL_INVALID', 'Sealed value is truncated');
      // Node's decoder skips stray characters and ignores trailing bits, so "…x" can open as the
      // same bytes: only the one spelling seal() produces is accepted.
      if (iv.toString('base64url') !== ivText || body.toString('base64url') !== bodyText)
        throw new ThreadlinkError('SEAL_INVALID', 'Sealed value is not canonical');
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv);
        decipher.setAAD(aad(purpose));
        decipher.setAuthTag(body.subarray(body.length - 16));
        return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString('utf8');
      } catch (error) {
        throw new ThreadlinkError('SEAL_INVALID', 'Sealed value failed authentication', { cause: error });
      }
    },
    keyIdOf(sealed) {
      return sealed.split('.')[1] ?? '';
    },
  };
}
