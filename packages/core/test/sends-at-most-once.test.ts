// sendOnce, the rule both adapters send by: after a failure that may have gone out, look before
// sending again; send again only when the look is sure; otherwise SEND_UNCONFIRMED.
// (The adapters' own tests drive it against the emulators: never-sends-a-reply-twice.test.ts.)
import { isThreadlinkError, silentLogger, ThreadlinkError, toThreadlinkError } from '@threadlink/core';
import { httpStatusError, sendOnce, type SendCheck, type SendOnceOptions } from '@threadlink/core/provider';
import { describe, expect, it } from 'vitest';

interface Run {
  attempts: number;
  checks: ThreadlinkError[];
  abandoned: number;
  sleeps: number[];
}

function options(
  failures: unknown[],
  checks: Array<SendCheck<string> | Error>,
  extra: Partial<SendOnceOptions<string>> = {},
): { run: Run; options: SendOnceOptions<string> } {
  const run: Run = { attempts: 0, checks: [], abandoned: 0, sleeps: [] };
  return {
    run,
    options: {
      provider: 'test',
      operation: 'send',
      attempt: async (attempt) => {
        run.attempts = attempt;
        const failure = failures.shift();
        if (failure !== undefined) throw failure;
        return `sent on attempt ${attempt}`;
      },
      check: async (failure) => {
        run.checks.push(failure);
        const next = checks.shift() ?? { outcome: 'unknown' };
        if (next instanceof Error) throw next;
        return next;
      },
      abandon: async () => {
        run.abandoned += 1;
      },
      classify: toThreadlinkError,
      clock: { now: () => 0, sleep: async (ms) => void run.sleeps.push(ms) },
      backoff: { baseMs: 100, maxMs: 1_000, random: () => 0 },
      logger: silentLogger,
      ...extra,
    },
  };
}

const answered500 = (): ThreadlinkError => httpStatusError(500, 'Internal error', { provider: 'test' });
const noAnswer = (): ThreadlinkError => new ThreadlinkError('PROVIDER_UNAVAILABLE', 'socket hang up');

async function failureOf(promise: Promise<unknown>): Promise<ThreadlinkError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isThreadlinkError(error)) throw new Error(`expected a ThreadlinkError, got ${String(error)}`);
  return error;
}

describe('sendOnce', () => {
  it('returns what the look found when a failed attempt went out, without sending again', async () => {
    const { run, options: settings } = options([answered500()], [{ outcome: 'sent', result: 'found in Sent' }]);
    expect(await sendOnce(settings)).toBe('found in Sent');
    expect(run).toMatchObject({ attempts: 1, abandoned: 0, sleeps: [] });
  });

  it('sends again only after a look that is sure the failed attempt did not go out', async () => {
    const { run, options: settings } = options([answered500(), answered500()], [{ outcome: 'not-sent' }, { outcome: 'not-sent' }]);
    expect(await sendOnce(settings)).toBe('sent on attempt 3');
    expect(run).toMatchObject({ attempts: 3, sleeps: [100, 200] });
  });

  it('turns a failure nobody can settle into SEND_UNCONFIRMED, keeping the cause and leaving clean-up alone', async () => {
    const cause = noAnswer();
    const { run, options: settings } = options([cause], [{ outcome: 'unknown' }]);
    const error = await failureOf(sendOnce(settings));
    expect(error).toMatchObject({
      code: 'SEND_UNCONFIRMED',
      retryable: false,
      status: 502,
      details: { provider: 'test', operation: 'send', failure: 'PROVIDER_UNAVAILABLE', status: null },
    });
    expect(error.cause).toBe(cause);
    expect(error.message).toContain('Check the Sent folder');
    expect(run).toMatchObject({ attempts: 1, abandoned: 0 });
  });

  it('counts a look that fails as unsettled', async () => {
    const { options: settings } = options([answered500()], [new Error('history unavailable')]);
    expect((await failureOf(sendOnce(settings))).code).toBe('SEND_UNCONFIRMED');
  });

  it('passes failures that cannot have gone out (throttling, 4xx) through after clean-up, without looking', async () => {
    for (const failure of [
      httpStatusError(429, 'Throttled', { retryAfterMs: 60_000 }),
      httpStatusError(400, 'Bad request'),
      new ThreadlinkError('INSUFFICIENT_SCOPE', 'no Mail.Send'),
    ]) {
      const { run, options: settings } = options([failure], []);
      expect(await failureOf(sendOnce(settings))).toBe(failure);
      expect(run).toMatchObject({ attempts: 1, checks: [], abandoned: 1 });
    }
  });

  it('gives up when attempts run out or the wait is too long, saying nothing was sent', async () => {
    const { run, options: settings } = options([answered500(), answered500()], [{ outcome: 'not-sent' }, { outcome: 'not-sent' }], { attempts: 2 });
    const error = await failureOf(sendOnce(settings));
    expect(error).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true, details: { status: 500, sent: false } });
    expect(error.message).toContain('nothing was sent');
    expect(run).toMatchObject({ attempts: 2, abandoned: 1 });

    const slow = httpStatusError(503, 'Unavailable', { retryAfterMs: 120_000 });
    const waiting = options([slow], [{ outcome: 'not-sent' }]);
    expect(await failureOf(sendOnce(waiting.options))).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryAfterMs: 120_000, details: { sent: false } });
    expect(waiting.run).toMatchObject({ attempts: 1, sleeps: [], abandoned: 1 });
  });
});
