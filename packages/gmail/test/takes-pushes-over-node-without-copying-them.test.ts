// The Node glue hands a Pub/Sub push to tl.handler as a Request built from what node:http already
// read (method, URL, headers, the body's bytes), and Gmail's intake reads only those: no web Request
// (a Headers copy, a body stream, an AbortSignal) is built for a push on its way to the sync.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startHarness, type Harness } from './harness.js';

const ANA = 'ana@acme.test';

describe('push intake over node:http', () => {
  let harness: Harness;
  beforeEach(async () => {
    harness = await startHarness({ emulator: { notificationIntervalMs: 0 } });
  });
  afterEach(async () => {
    vi.unstubAllGlobals();
    await harness.close();
  });

  it('syncs a pushed message without building a web Request for the push', async () => {
    const connection = await harness.connect(ANA);
    const built: string[] = [];
    const WebRequest = globalThis.Request;
    vi.stubGlobal(
      'Request',
      class CountedRequest extends WebRequest {
        constructor(input: RequestInfo | URL, init?: RequestInit) {
          super(input, init);
          if (new URL(this.url).pathname.endsWith('/webhooks/gmail')) built.push(this.url);
        }
      },
    );
    const receivedBefore = harness.eventsNamed('notification.received').length;
    const delivered = await harness.google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'PRJ-1042 pushed' });
    await harness.settle();
    expect(await harness.store.getMessageByProviderId(connection.id, delivered.id)).toMatchObject({ subject: 'PRJ-1042 pushed' });
    expect(harness.eventsNamed('notification.received').length).toBeGreaterThan(receivedBefore);
    expect(built).toEqual([]);
  });
});
