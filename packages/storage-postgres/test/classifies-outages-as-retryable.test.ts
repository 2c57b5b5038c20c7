// A database outage reaches the store as a socket error (ECONNRESET when the server dies
// mid-query, ECONNREFUSED while it is down) whose `code` is Node's errno name, not a SQLSTATE. It
// must come out retryable — webhook intake answers 503 so the provider redelivers, and jobs retry —
// while a real SQL error keeps its SQLSTATE's verdict. (The outage itself, end to end, is
// packages/reliability/test/survives-a-database-outage.test.ts.)
import { describe, expect, it } from 'vitest';
import { toStoreError } from '../src/errors.js';

describe('toStoreError', () => {
  it.each(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE'])('%s is a retryable outage, named in details, not taken for a SQLSTATE', (code) => {
    const error = toStoreError(Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code }), 'claimOnce');
    expect(error).toMatchObject({ code: 'STORE_ERROR', retryable: true, details: { operation: 'claimOnce', sqlstate: null, socket: code } });
    expect(error.message).toBe('claimOnce failed');
  });

  it('keeps the SQLSTATE verdict: 57P01 (admin shutdown) retryable, 23505 (unique violation) not', () => {
    expect(toStoreError(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }), 'applySync')).toMatchObject({
      retryable: true,
      details: { sqlstate: '57P01' },
    });
    expect(toStoreError(Object.assign(new Error('duplicate key'), { code: '23505' }), 'applySync')).toMatchObject({ retryable: false });
  });

  it('a connection that ended with no code at all ("Connection terminated unexpectedly") is retryable', () => {
    expect(toStoreError(new Error('Connection terminated unexpectedly'), 'getConnection').retryable).toBe(true);
  });
});
