import { randomBytes } from 'node:crypto';

// Gmail message ids are 16 hex digits: the millisecond timestamp shifted left by
// 20 bits plus a sequence (so they sort by arrival). A thread's id is the id of
// its first message. History ids are per mailbox decimal counters with gaps.
export class MessageIdGenerator {
  private sequence: number;
  private last = 0n;

  constructor(
    private readonly now: () => number,
    random: () => number,
  ) {
    this.sequence = Math.floor(random() * 0x8_0000);
  }

  next(): string {
    this.sequence = (this.sequence + 1) & 0xf_ffff;
    let value = (BigInt(Math.max(0, Math.floor(this.now()))) << 20n) | BigInt(this.sequence);
    if (value <= this.last) value = this.last + 1n;
    this.last = value;
    return value.toString(16).padStart(16, '0');
  }
}

/** Looks like a Gmail message/thread id (used to answer 400 vs 404 like Gmail). */
export function isWellFormedId(id: string): boolean {
  return /^[0-9a-f]{1,16}$/i.test(id);
}

/** An unguessable token in Google's style (`ya29.…`, `1//…`, `4/0A…`). */
export function opaqueToken(prefix: string, bytes: number): string {
  return prefix + randomBytes(bytes).toString('base64url');
}
