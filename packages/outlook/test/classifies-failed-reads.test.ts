// Reads (every request of a sync pull) are sent without the Graph client's request builder
// (client.ts plainGet); their failures must still read exactly as the client's GraphErrors did.
import { afterEach, describe, expect, it } from 'vitest';
import { expectThreadlinkError, recordingClock, startHarness, type Harness } from './support.js';

describe('failed reads', () => {
  let harness: Harness;
  afterEach(async () => harness?.close());

  it('retries a delta read whose connection drops, then reports Graph unreachable', async () => {
    harness = await startHarness();
    const clock = recordingClock();
    const connected = await harness.connect('ana@contoso.com', { clock });
    harness.ms.failNext('delta', { status: 'drop', count: 50 });

    const error = await expectThreadlinkError(harness.provider.pullChanges(connected.session, connected.connection.cursor!), 'PROVIDER_UNAVAILABLE');
    expect(error.message).toBe('Graph unreachable: fetch failed');
    expect(error.retryable).toBe(true);
    // Each folder's read is tried four times (three waits) before the pull gives up.
    expect(clock.sleeps.length).toBeGreaterThanOrEqual(3);
  });

  it("keeps Graph's error code and message when a read is refused", async () => {
    harness = await startHarness();
    const connected = await harness.connect('ana@contoso.com');
    harness.ms.failNext('delta', { status: 403, code: 'ErrorAccessDenied' });

    const error = await expectThreadlinkError(harness.provider.pullChanges(connected.session, connected.connection.cursor!), 'INSUFFICIENT_SCOPE');
    expect(error.message).toBe('Graph 403 ErrorAccessDenied: Injected failure.');
    expect(error.details).toMatchObject({ status: 403, provider: 'outlook', reason: 'ErrorAccessDenied' });
  });
});
