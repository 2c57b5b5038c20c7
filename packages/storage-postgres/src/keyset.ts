// Opaque keyset cursors: base64url JSON of the sort key of the last row served.
import { ThreadlinkError } from '@threadlink/core/store';

export function encodeKeyset(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeThreadKeyset(cursor: string): { lastActivityAt: number; threadId: string } {
  const key = decode(cursor);
  const [lastActivityAt, threadId] = key;
  if (key.length !== 2 || typeof lastActivityAt !== 'number' || !Number.isSafeInteger(lastActivityAt) || typeof threadId !== 'string') {
    throw invalid();
  }
  return { lastActivityAt, threadId };
}

export function decodeIdKeyset(cursor: string): string {
  const key = decode(cursor);
  const [id] = key;
  if (key.length !== 1 || typeof id !== 'string') throw invalid();
  return id;
}

function decode(cursor: string): unknown[] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value)) return value;
  } catch {
    // falls through to the uniform error below
  }
  throw invalid();
}

function invalid(): ThreadlinkError {
  return new ThreadlinkError('INVALID_INPUT', 'invalid page cursor');
}
