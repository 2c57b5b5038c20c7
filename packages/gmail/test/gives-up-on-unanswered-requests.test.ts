// Every Gmail call has a deadline (`requestTimeoutMs`) and stops when the session's signal aborts
// (the engine stopping). Both now ride on one signal per attempt (client.ts, `requestDeadline`)
// instead of gaxios's `timeout`: these are the guarantees that must survive that change.
import type { ThreadlinkError } from '@threadlink/core';
import type { GmailEmulator } from '@threadlink/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { connect, providerFor, startGoogle, type TestSession } from './support.js';

const ANA = 'ana@acme.test';
/** Far longer than the deadline below: the answer never arrives in time. */
const SLOW_ANSWER_MS = 5_000;

describe('a Gmail request without an answer', () => {
  let google: GmailEmulator;
  let session: TestSession;
  let cursor: string;
  const provider = () => providerFor(google, { requestTimeoutMs: 50, retry: { attempts: 1 } });

  beforeAll(async () => {
    google = await startGoogle({ quotaUnitsPerSecond: 100_000 });
    session = await connect(google, providerFor(google), ANA);
  });
  afterAll(async () => {
    await google.close();
  });
  beforeEach(async () => {
    google.faults.latencyMs = 0;
    cursor = (await provider().subscribe(session)).cursor;
  });

  it('gives up at its deadline as a retryable PROVIDER_UNAVAILABLE', async () => {
    await google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'Slow' });
    google.faults.latencyMs = SLOW_ANSWER_MS;
    const failure = (await provider()
      .pullChanges(session, cursor)
      .catch((error: unknown) => error)) as ThreadlinkError;
    expect(failure.code).toBe('PROVIDER_UNAVAILABLE');
    expect(failure.retryable).toBe(true);
  });

  it('stops as SHUTTING_DOWN when the session is aborted', async () => {
    await google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'Stopped' });
    google.faults.latencyMs = SLOW_ANSWER_MS;
    const stopping = new AbortController();
    const pulling = providerFor(google, { retry: { attempts: 1 } })
      .pullChanges({ ...session, signal: stopping.signal }, cursor)
      .catch((error: unknown) => error);
    stopping.abort(new Error('engine stopping'));
    const failure = (await pulling) as ThreadlinkError;
    expect(failure.code).toBe('SHUTTING_DOWN');
  });

  it('answered in time, is not cut short by the deadline', async () => {
    const delivered = await google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'In time' });
    const result = await providerFor(google, { requestTimeoutMs: 5_000, retry: { attempts: 1 } }).pullChanges(session, cursor);
    expect(result.changes.map((change) => (change.type === 'upsert' ? change.message.providerMessageId : null))).toEqual([delivered.id]);
  });
});
