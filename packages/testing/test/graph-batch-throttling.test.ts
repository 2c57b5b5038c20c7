import { BatchRequestContent, BatchResponseContent, GraphError, type BatchResponseBody } from '@microsoft/microsoft-graph-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startGraphEmulator, type GraphEmulator } from '../src/graph/index.js';
import { connectMailbox } from './graph-clients.js';

let emulator: GraphEmulator;

beforeAll(async () => {
  emulator = await startGraphEmulator();
});
afterEach(() => {
  Object.assign(emulator.faults, { latencyMs: 0, forced429: 0, errorRate: 0, retryAfterSeconds: 1 });
});
afterAll(async () => {
  await emulator.close();
});

const connect = (name: string, retries?: number) => connectMailbox(emulator, name, retries);

function request(path: string, init: RequestInit = {}): Request {
  return new Request(`${emulator.url}/v1.0${path}`, init);
}

describe('$batch', () => {
  it('answers each request with its own status, headers and body', async () => {
    const { email, client } = await connect('kim');
    const delivered = await emulator.deliver({ from: 'x@fabrikam.test', to: email, subject: 'Batch me' });
    const batch = new BatchRequestContent([
      { id: '1', request: request('/me?$select=mail') },
      { id: '2', request: request(`/me/messages/${delivered.id}?$select=subject`) },
      { id: '3', request: request('/me/messages/AAMkADdoesnotexistAAA=') },
      {
        id: '4',
        request: request(`/me/messages/${delivered.id}`, {
          method: 'PATCH',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ isRead: true }),
        }),
      },
    ]);
    const raw = (await client.api('/$batch').post(await batch.getContent())) as BatchResponseBody;
    const responses = new BatchResponseContent(raw);
    expect(responses.getResponseById('1').status).toBe(200);
    expect(await responses.getResponseById('1').json()).toMatchObject({ mail: email });
    expect(await responses.getResponseById('2').json()).toMatchObject({ id: delivered.id, subject: 'Batch me' });
    expect(responses.getResponseById('3').status).toBe(404);
    expect(await responses.getResponseById('3').json()).toMatchObject({ error: { code: 'ErrorItemNotFound' } });
    expect(responses.getResponseById('4').status).toBe(200);
    expect(emulator.messages(email)[0]?.isRead).toBe(true);
    expect(emulator.log.count({ mailbox: email, operation: '$batch' })).toBe(1);
    expect(emulator.log.count({ mailbox: email, operation: 'messages.get' })).toBe(2);
  });

  it('refuses more than 20 requests in one batch', async () => {
    const { client } = await connect('lee');
    const requests = Array.from({ length: 21 }, (_, index) => ({ id: String(index + 1), method: 'GET', url: '/me' }));
    const error = (await client
      .api('/$batch')
      .post({ requests })
      .catch((caught: unknown) => caught)) as GraphError;
    expect(error.statusCode).toBe(400);
    expect(error.code).toBe('BadRequest');
    const twenty = (await client.api('/$batch').post({ requests: requests.slice(0, 20) })) as BatchResponseBody;
    expect(twenty.responses.every((response) => response.status === 200)).toBe(true);
  });

  it('throttles individual requests inside a 200 batch with 429 and Retry-After', async () => {
    const { client } = await connect('max');
    emulator.faults.forced429 = 1;
    emulator.faults.retryAfterSeconds = 7;
    const body = (await client.api('/$batch').post({
      requests: [
        { id: 'a', method: 'GET', url: '/me' },
        { id: 'b', method: 'GET', url: '/me', dependsOn: ['a'] },
      ],
    })) as BatchResponseBody;
    const byId = new Map(body.responses.map((response) => [response.id, response]));
    expect(byId.get('a')?.status).toBe(429);
    expect(byId.get('a')?.headers).toMatchObject({ 'Retry-After': '7' });
    // A request that depends on a failed one is not run.
    expect(byId.get('b')?.status).toBe(424);
  });
});

describe('throttling', () => {
  it('answers a fifth concurrent request to one mailbox with 429 MailboxConcurrency and Retry-After', async () => {
    const busy = await connect('ned', 0);
    const other = await connect('ola', 0);
    emulator.faults.latencyMs = 300;
    emulator.faults.retryAfterSeconds = 2;
    const outcomes = await Promise.all(
      Array.from({ length: 6 }, () =>
        busy.client
          .api('/me')
          .get()
          .then(() => 200)
          .catch((error: unknown) => error as GraphError),
      ),
    );
    // Another mailbox has its own budget.
    const unaffected = other.client.api('/me').get();
    const throttled = outcomes.filter((outcome): outcome is GraphError => outcome instanceof GraphError);
    expect(outcomes.filter((outcome) => outcome === 200)).toHaveLength(4);
    expect(throttled).toHaveLength(2);
    for (const error of throttled) {
      expect(error.statusCode).toBe(429);
      expect(error.code).toBe('ApplicationThrottled');
      expect(error.message).toContain('MailboxConcurrency');
      expect(error.headers?.get('retry-after')).toBe('2');
    }
    await expect(unaffected).resolves.toMatchObject({ mail: other.email });
  });

  it('forces 429s with Retry-After, which the client RetryHandler honours', async () => {
    const raw = await connect('pat', 0);
    emulator.faults.forced429 = 1;
    emulator.faults.retryAfterSeconds = 5;
    const error = (await raw.client
      .api('/me')
      .get()
      .catch((caught: unknown) => caught)) as GraphError;
    expect(error.statusCode).toBe(429);
    expect(error.headers?.get('retry-after')).toBe('5');
    expect(error.code).toBe('TooManyRequests');

    const retrying = await connect('quinn', 3);
    emulator.faults.forced429 = 1;
    emulator.faults.retryAfterSeconds = 1;
    await expect(retrying.client.api('/me').get()).resolves.toMatchObject({ mail: retrying.email });
    const calls = emulator.log.entries.filter((entry) => entry.mailbox === retrying.email && entry.operation === 'me.get');
    expect(calls.map((entry) => entry.status)).toEqual([429, 200]);
  });

  it('answers with 503 at the configured error rate', async () => {
    const { client } = await connect('rae', 0);
    emulator.faults.errorRate = 1;
    const error = (await client
      .api('/me')
      .get()
      .catch((caught: unknown) => caught)) as GraphError;
    expect(error.statusCode).toBe(503);
    emulator.faults.errorRate = 0;
    await expect(client.api('/me').get()).resolves.toHaveProperty('id');
  });
});
