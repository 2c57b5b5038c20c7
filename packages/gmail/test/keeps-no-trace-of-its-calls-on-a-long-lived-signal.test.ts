// The soak's heap snapshots (issue 23) found the engine's abort signal holding one WeakRef per Gmail
// call ever made: gaxios links every request's timeout to the signal it is given with
// `AbortSignal.any([signal, AbortSignal.timeout(t)])`, and Node 20 keeps each linked signal in the
// source's `kDependantSignals` set for as long as the source lives. Each job now opens its sessions
// with a signal of its own (core `util/job-signal.ts`), so what the calls leave goes with the job.
// Since issue 21 a call links nothing at all: its deadline is a timer of its own, cleared with the
// listener it puts on the session's signal when the answer is in (gmail `client.ts`, `requestDeadline`).
import { getEventListeners } from 'node:events';
import type { MailProvider } from '@threadlink/core';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from './harness.js';

const ANA = 'ana@acme.test';
const MESSAGES = 40;

/** Node's own record of the signals linked to `signal` by AbortSignal.any (an internal symbol). */
function linkedSignals(signal: AbortSignal): number {
  const symbol = Object.getOwnPropertySymbols(signal).find((candidate) => candidate.description === 'kDependantSignals');
  const set = symbol === undefined ? undefined : (signal as unknown as Record<symbol, Set<unknown> | undefined>)[symbol];
  return set?.size ?? 0;
}

describe('a long run of pulls', () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.close();
  });

  it('leaves no trace of its Gmail calls on any signal that outlives a job', async () => {
    const signals = new Set<AbortSignal>();
    const watch = (provider: MailProvider): MailProvider => ({
      ...provider,
      pullChanges: (session, cursor) => {
        if (session.signal) signals.add(session.signal);
        return provider.pullChanges(session, cursor);
      },
    });
    harness = await startHarness({ wrapProvider: watch });
    await harness.connect(ANA);
    for (let index = 0; index < MESSAGES; index += 1) {
      await harness.google.deliver({ to: ANA, from: 'client@bigco.test', subject: `Message ${index}`, text: 'hello' });
      await harness.settle();
    }
    expect(await harness.store.listProviderMessageIds((await harness.tl.connections.list({ tenantId: 't1', as: 'admin' }))[0]!.id)).toHaveLength(MESSAGES);
    expect(signals.size).toBeGreaterThanOrEqual(MESSAGES);
    // Every pull made Gmail calls (history.list, messages.get); none is linked to the signal it was
    // given, and none left a listener on it.
    expect([...signals].map(linkedSignals)).toEqual([...signals].map(() => 0));
    expect([...signals].map((signal) => getEventListeners(signal, 'abort').length)).toEqual([...signals].map(() => 0));
  });
});
