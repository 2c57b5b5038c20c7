// Quota (units per method, 250 units/user/s), rate-limit error shapes, injected
// faults, auth failures and gmail.metadata refusals, through the real client.
import type { gmail_v1 } from '@googleapis/gmail';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { QUOTA_UNITS, startGmailEmulator, type DeliveredMessages, type GmailEmulator } from '../src/gmail/index.js';
import { connect, failure, GOOGLE } from './gmail-helpers.js';

let emulator: GmailEmulator;
let metadataOnly: gmail_v1.Gmail;
let readonly: gmail_v1.Gmail;
let message: DeliveredMessages;
const ANA = 'ana@acme.example';
const BRUNO = 'bruno@acme.example';
const noRetry = { retry: false } as const;

beforeAll(async () => {
  emulator = await startGmailEmulator({ quotaUnitsPerSecond: 100_000 });
  emulator.addMailbox({ email: ANA });
  emulator.addMailbox({ email: BRUNO });
  message = await emulator.deliver({ from: 'client@bigco.example', to: ANA, subject: 'Limits', text: 'secret body' });
  ({ gmail: metadataOnly } = await connect(emulator, ANA, [`${GOOGLE}gmail.metadata`]));
  ({ gmail: readonly } = await connect(emulator, BRUNO, [`${GOOGLE}gmail.readonly`]));
});
afterAll(() => emulator.close());
afterEach(() => {
  emulator.faults.forced429 = 0;
  emulator.faults.errorRate = 0;
  emulator.faults.rateLimitStatus = 429;
});

describe('quota', () => {
  it('charges the documented units per method in the request log, per mailbox', async () => {
    emulator.log.clear();
    await metadataOnly.users.getProfile({ userId: 'me' });
    await metadataOnly.users.messages.list({ userId: 'me' });
    await metadataOnly.users.messages.get({ userId: 'me', id: message.id, format: 'metadata' });
    await metadataOnly.users.history.list({ userId: 'me', startHistoryId: message.historyId });
    await metadataOnly.users.threads.get({ userId: 'me', id: message.threadId, format: 'minimal' });
    await metadataOnly.users.labels.list({ userId: 'me' });
    expect(emulator.log.entries.map((entry) => [entry.operation, entry.units])).toEqual([
      ['getProfile', 1],
      ['messages.list', 5],
      ['messages.get', 5],
      ['history.list', 2],
      ['threads.get', 10],
      ['labels.list', 1],
    ]);
    expect(emulator.log.units({ mailbox: ANA })).toBe(24);
    expect(emulator.log.count({ mailbox: BRUNO })).toBe(0);
    expect(QUOTA_UNITS['messages.send']).toBe(100);
    expect(QUOTA_UNITS['watch']).toBe(100);
    expect(QUOTA_UNITS['stop']).toBe(50);
  });

  it('refuses calls beyond the per-user units per second with Google 429 RESOURCE_EXHAUSTED', async () => {
    // A frozen emulator clock keeps every call inside one quota window, however slow the machine.
    const frozen = Date.now();
    const tight = await startGmailEmulator({ quotaUnitsPerSecond: 250, now: () => frozen });
    try {
      tight.addMailbox({ email: ANA });
      tight.addMailbox({ email: BRUNO });
      const { gmail } = await connect(tight, ANA, [`${GOOGLE}gmail.metadata`]);
      const { gmail: other } = await connect(tight, BRUNO, [`${GOOGLE}gmail.metadata`]);
      // 50 × messages.list (5 units) = 250 units: the 51st call inside the same second is refused.
      const results = await Promise.allSettled(Array.from({ length: 55 }, () => gmail.users.messages.list({ userId: 'me' }, noRetry)));
      const refused = results.filter((result) => result.status === 'rejected');
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(50);
      expect(refused).toHaveLength(5);
      const refusal = await failure(Promise.reject((refused[0] as PromiseRejectedResult).reason));
      expect(refusal.status).toBe(429);
      expect(refusal.body.error).toMatchObject({
        code: 429,
        status: 'RESOURCE_EXHAUSTED',
        errors: [{ domain: 'usageLimits', reason: 'rateLimitExceeded' }],
      });
      expect(refusal.body.error.message).toMatch(/^User-rate limit exceeded\. {2}Retry after \d{4}-\d\d-\d\dT/);
      // The limit is per user: another mailbox is unaffected.
      expect((await other.users.getProfile({ userId: 'me' }, noRetry)).status).toBe(200);
      expect(tight.log.entries.filter((entry) => entry.status === 429).every((entry) => entry.units === 0)).toBe(true);
    } finally {
      await tight.close();
    }
  });

  it('can answer rate limits in the older 403 userRateLimitExceeded shape', async () => {
    emulator.faults.rateLimitStatus = 403;
    emulator.faults.forced429 = 1;
    const refusal = await failure(metadataOnly.users.getProfile({ userId: 'me' }, noRetry));
    expect(refusal.status).toBe(403);
    expect(refusal.body.error).toMatchObject({ code: 403, errors: [{ domain: 'usageLimits', reason: 'userRateLimitExceeded' }] });
  });
});

describe('faults', () => {
  it('forced429 refuses the next N calls, then calls succeed', async () => {
    emulator.faults.forced429 = 2;
    expect((await failure(metadataOnly.users.getProfile({ userId: 'me' }, noRetry))).status).toBe(429);
    expect((await failure(metadataOnly.users.labels.list({ userId: 'me' }, noRetry))).status).toBe(429);
    expect((await metadataOnly.users.getProfile({ userId: 'me' }, noRetry)).status).toBe(200);
  });

  it('the client retries a forced 429 on GET by itself (gaxios default) and then succeeds', async () => {
    emulator.faults.forced429 = 1;
    emulator.log.clear();
    const { status } = await metadataOnly.users.labels.list({ userId: 'me' });
    expect(status).toBe(200);
    expect(emulator.log.entries.map((entry) => entry.status)).toEqual([429, 200]);
  });

  it('errorRate answers 503 backendError', async () => {
    emulator.faults.errorRate = 1;
    const result = await failure(metadataOnly.users.getProfile({ userId: 'me' }, noRetry));
    expect(result.status).toBe(503);
    expect(result.body.error).toMatchObject({ status: 'UNAVAILABLE', errors: [{ reason: 'backendError' }] });
  });

  it('failNext targets one operation', async () => {
    emulator.failNext('history.list', { status: 500 });
    expect((await metadataOnly.users.getProfile({ userId: 'me' }, noRetry)).status).toBe(200);
    const result = await failure(metadataOnly.users.history.list({ userId: 'me', startHistoryId: message.historyId }, noRetry));
    expect(result.status).toBe(500);
    expect((await metadataOnly.users.history.list({ userId: 'me', startHistoryId: message.historyId }, noRetry)).status).toBe(200);
  });
});

describe('authentication', () => {
  it('401 without a token and with an unknown token, in Google error shape', async () => {
    const missing = await fetch(`${emulator.url}/gmail/v1/users/me/profile`);
    expect(missing.status).toBe(401);
    expect((await missing.json()) as unknown).toMatchObject({
      error: { code: 401, status: 'UNAUTHENTICATED', errors: [{ reason: 'required', location: 'Authorization' }] },
    });
    const unknown = await fetch(`${emulator.url}/gmail/v1/users/me/profile`, { headers: { authorization: 'Bearer ya29.forged' } });
    expect(unknown.status).toBe(401);
    expect(unknown.headers.get('www-authenticate')).toContain('invalid_token');
    expect((await unknown.json()) as unknown).toMatchObject({ error: { errors: [{ message: 'Invalid Credentials', reason: 'authError' }] } });
  });

  it('an access token expires after 3599 s of emulator time', async () => {
    const { gmail } = await connect(emulator, ANA, [`${GOOGLE}gmail.metadata`]);
    emulator.advanceClock(3600_000);
    try {
      // expiry_date is set, so google-auth-library does not refresh on 401 by itself.
      expect((await failure(gmail.users.getProfile({ userId: 'me' }, noRetry))).status).toBe(401);
    } finally {
      emulator.advanceClock(-3600_000);
    }
  });
});

describe('gmail.metadata scope', () => {
  it('allows metadata and minimal gets, watch and history', async () => {
    expect((await metadataOnly.users.messages.get({ userId: 'me', id: message.id, format: 'metadata' })).status).toBe(200);
    expect((await metadataOnly.users.messages.get({ userId: 'me', id: message.id, format: 'minimal' })).status).toBe(200);
    expect((await metadataOnly.users.history.list({ userId: 'me', startHistoryId: message.historyId })).status).toBe(200);
  });

  it("refuses format=full and format=raw with 403 and Google's text", async () => {
    const full = await failure(metadataOnly.users.messages.get({ userId: 'me', id: message.id }));
    expect(full.status).toBe(403);
    expect(full.body.error).toMatchObject({ message: "Metadata scope doesn't allow format FULL", status: 'PERMISSION_DENIED' });
    const raw = await failure(metadataOnly.users.messages.get({ userId: 'me', id: message.id, format: 'raw' }));
    expect(raw.body.error.message).toBe("Metadata scope doesn't allow format RAW");
    const thread = await failure(metadataOnly.users.threads.get({ userId: 'me', id: message.threadId, format: 'full' }));
    expect(thread.status).toBe(403);
  });

  it('refuses q with 403 "Metadata scope does not support \'q\' parameter"', async () => {
    const result = await failure(metadataOnly.users.messages.list({ userId: 'me', q: 'after:1700000000' }));
    expect(result.status).toBe(403);
    expect(result.body.error.message).toBe("Metadata scope does not support 'q' parameter");
    expect((await metadataOnly.users.messages.list({ userId: 'me', labelIds: ['INBOX'] })).status).toBe(200);
  });

  it('applies the restriction even when gmail.readonly is granted alongside', async () => {
    const { gmail: both } = await connect(emulator, ANA, [`${GOOGLE}gmail.metadata`, `${GOOGLE}gmail.readonly`]);
    expect((await failure(both.users.messages.get({ userId: 'me', id: message.id }))).status).toBe(403);
    expect((await readonly.users.messages.list({ userId: 'me', q: 'after:1700000000' })).status).toBe(200);
  });

  it('refuses methods outside the granted scopes with insufficientPermissions', async () => {
    const { gmail: sendOnly } = await connect(emulator, ANA, [`${GOOGLE}gmail.send`]);
    const result = await failure(sendOnly.users.history.list({ userId: 'me', startHistoryId: message.historyId }));
    expect(result.status).toBe(403);
    expect(result.body.error).toMatchObject({ message: 'Request had insufficient authentication scopes.', errors: [{ reason: 'insufficientPermissions' }] });
  });
});
