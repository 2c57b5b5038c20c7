import { createSealer, generateSealingKey, ThreadlinkError } from '@threadlink/core';
import { describe, expect, it } from 'vitest';

describe('token sealing (AES-256-GCM)', () => {
  const oldKey = { id: '2026-10', key: generateSealingKey() };
  const newKey = { id: '2026-11', key: generateSealingKey() };

  it('round-trips and never contains the clear text', () => {
    const sealer = createSealer([newKey]);
    const sealed = sealer.seal('refresh-token-value', 'provider-tokens');
    expect(sealed).not.toContain('refresh-token-value');
    expect(sealed.startsWith('tl1.2026-11.')).toBe(true);
    expect(sealer.open(sealed, 'provider-tokens')).toBe('refresh-token-value');
  });

  it('opens values sealed with an old key after rotation, and seals with the new one', () => {
    const before = createSealer([oldKey]).seal('secret', 'provider-tokens');
    const rotated = createSealer([newKey, oldKey]);
    expect(rotated.open(before, 'provider-tokens')).toBe('secret');
    expect(rotated.keyIdOf(rotated.seal('secret', 'provider-tokens'))).toBe('2026-11');
  });

  it('refuses tampering, a wrong purpose and unknown keys with typed errors', () => {
    const sealer = createSealer([newKey]);
    const sealed = sealer.seal('secret', 'provider-tokens');
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    const tampered = [...parts.slice(0, 3), body.toString('base64url')].join('.');
    expect(() => sealer.open(tampered, 'provider-tokens')).toThrowError(expect.objectContaining({ code: 'SEAL_INVALID' }));
    expect(() => sealer.open(sealed, 'oauth-state')).toThrowError(expect.objectContaining({ code: 'SEAL_INVALID' }));
    expect(() => createSealer([oldKey]).open(sealed, 'provider-tokens')).toThrowError(expect.objectContaining({ code: 'SEALING_KEY_MISSING' }));
    expect(() => createSealer([])).toThrow(ThreadlinkError);
    expect(() => createSealer([{ id: 'short', key: 'abc' }])).toThrowError(expect.objectContaining({ code: 'CONFIG_INVALID' }));
  });

  it('accepts only the spelling seal() produced: a trailing or stray character is refused, not ignored', () => {
    const sealer = createSealer([newKey]);
    // Lengths cover every base64 remainder, so one of them ends on a whole group where a trailing
    // character decodes to nothing at all.
    for (const clear of ['a', 'ab', 'abc']) {
      const sealed = sealer.seal(clear, 'oauth-state');
      for (const variant of [`${sealed}x`, `${sealed}=`, sealed.replace(/\.([^.]+)$/, '.*$1')]) {
        expect(() => sealer.open(variant, 'oauth-state')).toThrowError(expect.objectContaining({ code: 'SEAL_INVALID' }));
      }
      expect(sealer.open(sealed, 'oauth-state')).toBe(clear);
    }
  });
});
