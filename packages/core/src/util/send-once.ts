// Sending is the one provider call that must never be repeated blindly: Graph's /reply,
// /replyAll, /send and /sendMail and Gmail's messages.send each deliver a message per request,
// and a 5xx or a lost connection does not say whether the request was carried out (Graph's error
// table: 500 "an internal server error while processing the request", 504 "did not receive a
// timely response from the upstream server"; Gmail's: 5xx "an unexpected error occurred while
// processing the request"). Only throttling is documented as refused unprocessed ("When
// throttling occurs, Microsoft Graph returns HTTP status code 429 and the requests fail"), so the
// adapters' send requests retry 429s and nothing else.
//
// sendOnce runs one attempt and, after a failure that may have gone out, asks the adapter to look
// (the draft's state, the mailbox's Sent history). It sends again only when the look is sure the
// failed attempt did not go out; a failure nobody can settle becomes SEND_UNCONFIRMED, so the host
// tells the user to check Sent Items instead of offering a resend that could duplicate the mail.
import { ThreadlinkError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Clock } from './clock.js';
import { backoffDelay, type BackoffOptions } from './retry.js';

/** What a look at the mailbox after a failed attempt found. */
export type SendCheck<T> = { outcome: 'sent'; result: T } | { outcome: 'not-sent' } | { outcome: 'unknown' };

/**
 * Whether a failed send request may still have been carried out: no answer at all (reset,
 * timeout, refused), a 5xx, or an answer the client could not read. Throttling (429, Gmail's 403
 * rate limits), authentication failures and other 4xx answers mean it was not.
 */
export function sendMayHaveGoneOut(error: ThreadlinkError): boolean {
  if (error.code === 'PROVIDER_UNAVAILABLE' || error.code === 'INTERNAL') return true;
  const status = error.details.status;
  return typeof status === 'number' && status >= 500;
}

/**
 * Whether the provider itself answered the failed request (500, 502, 503 or 408): the request is
 * over, so what the mailbox shows now is final. Without an answer, or behind a gateway timeout
 * (504), the request may still be running and an empty mailbox proves nothing.
 */
export function providerAnswered(error: ThreadlinkError): boolean {
  const status = error.details.status;
  return typeof status === 'number' && status !== 504 && (status >= 500 || status === 408);
}

export interface SendOnceOptions<T> {
  /** The provider id ('gmail', 'outlook', …), for the error and the logs. */
  provider: string;
  /** The provider request that sends, e.g. 'messages.send' or '/reply'. */
  operation: string;
  /** One attempt. Its send request itself retries throttling (429) and nothing else. */
  attempt: (attempt: number) => Promise<T>;
  /** After a failure that may have gone out: did it? A check that throws counts as 'unknown'. */
  check: (failure: ThreadlinkError) => Promise<SendCheck<T>>;
  /** Clean-up before a failure is thrown while the mail surely did not go out (an unsent draft). */
  abandon?: () => Promise<void>;
  classify: (error: unknown) => ThreadlinkError;
  /** Attempts in all, the first included (default 3). */
  attempts?: number;
  /** Waits between attempts; a Retry-After longer than `maxMs` is handed to the caller instead. */
  backoff?: BackoffOptions;
  clock: Clock;
  signal?: AbortSignal | undefined;
  logger: Logger;
  /** Content-free fields for every log line (the connection id). */
  logFields?: Record<string, string>;
}

/** Runs a non-idempotent send so that it goes out at most once; see the file comment. */
export async function sendOnce<T>(options: SendOnceOptions<T>): Promise<T> {
  const attempts = options.attempts ?? 3;
  const maxWaitMs = options.backoff?.maxMs ?? 32_000;
  const fields = { ...options.logFields, provider: options.provider, operation: options.operation };
  for (let attempt = 1; ; attempt += 1) {
    let failure: ThreadlinkError;
    try {
      return await options.attempt(attempt);
    } catch (raw) {
      failure = options.classify(raw);
    }
    if (!sendMayHaveGoneOut(failure)) {
      await abandonQuietly(options, fields);
      throw failure;
    }
    const checked = await checkQuietly(options, failure, fields);
    if (checked.outcome === 'sent') {
      options.logger.warn('send went out although its request failed', { ...fields, code: failure.code, status: failure.details.status ?? null });
      return checked.result;
    }
    if (checked.outcome === 'unknown') throw unconfirmed(options, failure);
    const delayMs = Math.max(failure.retryAfterMs ?? 0, backoffDelay(attempt, options.backoff));
    if (failure.retryable && attempt < attempts && delayMs <= maxWaitMs && !options.signal?.aborted) {
      options.logger.debug('send retried: the failed attempt did not go out', { ...fields, code: failure.code, attempt, delayMs });
      await options.clock.sleep(delayMs, options.signal);
      continue;
    }
    await abandonQuietly(options, fields);
    throw new ThreadlinkError(failure.code, `${failure.message} (nothing was sent)`, {
      cause: failure,
      retryable: failure.retryable,
      ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
      details: { ...failure.details, sent: false },
    });
  }
}

async function checkQuietly<T>(options: SendOnceOptions<T>, failure: ThreadlinkError, fields: Record<string, string>): Promise<SendCheck<T>> {
  try {
    return await options.check(failure);
  } catch (error) {
    options.logger.warn('send could not be confirmed: the check failed', { ...fields, error });
    return { outcome: 'unknown' };
  }
}

async function abandonQuietly(options: SendOnceOptions<unknown>, fields: Record<string, string>): Promise<void> {
  try {
    await options.abandon?.();
  } catch (error) {
    options.logger.warn('send clean-up failed', { ...fields, error });
  }
}

function unconfirmed(options: SendOnceOptions<unknown>, failure: ThreadlinkError): ThreadlinkError {
  return new ThreadlinkError(
    'SEND_UNCONFIRMED',
    `The message may have been sent: ${options.provider} ${options.operation} failed without a definite answer and the mailbox could not confirm it either way. Check the Sent folder before sending it again.`,
    {
      cause: failure,
      details: {
        provider: options.provider,
        operation: options.operation,
        failure: failure.code,
        status: failure.details.status ?? null,
        reason: failure.details.reason ?? null,
      },
    },
  );
}
