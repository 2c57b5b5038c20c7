// A Cloud Pub/Sub push subscription, reduced to what a webhook receiver can observe:
// the JSON envelope, the OIDC bearer token, ack by status code, redelivery with
// backoff, and at-least-once / unordered delivery (plus knobs to make those visible).
//
// Envelope (cloud.google.com/pubsub/docs/push#receive_push):
//   {"message":{"data":"<base64>","attributes":{},"messageId":"…","message_id":"…",
//    "publishTime":"…","publish_time":"…"},"subscription":"projects/P/subscriptions/S"}
// Token (cloud.google.com/pubsub/docs/authenticate-push-subscriptions): RS256 JWT with
//   iss https://accounts.google.com, aud = the subscription's audience (default: the
//   endpoint URL), email = the push service account, email_verified true, 1 h lifetime.
// Ack: 102, 200, 201, 202, 204; anything else or a network error / deadline is a NACK
//   and the message is redelivered with exponential backoff.
import { setMaxListeners } from 'node:events';
import { Agent, request as httpRequest } from 'node:http';
import { linkedSignal } from '@threadlink/core/provider';
import { sleep } from '../common/server.js';

/**
 * POSTs over node:http on a keep-alive agent and answers the status once the body is drained. The
 * emulator shares the benchmark's box with the SDK it pushes to, and `fetch` (undici) costs it
 * several times more CPU per push than a plain request. `signal` aborts with its own reason.
 */
function postOverHttp(agent: Agent, url: URL, headers: Record<string, string>, body: string, signal: AbortSignal): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (response) => {
      response.on('error', reject);
      response.on('end', () => resolve(response.statusCode ?? 0));
      // Drain the body so the keep-alive socket is reused; its content is irrelevant to Pub/Sub.
      response.resume();
    });
    const abort = (): void => {
      request.destroy(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
    };
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
    request.on('error', reject);
    request.on('close', () => signal.removeEventListener('abort', abort));
    request.end(body);
  });
}

export interface PushFaults {
  /** Probability (0..1) that a published message is lost and never pushed. */
  dropNotifications: number;
  /** Probability (0..1) that a message is pushed twice (same messageId). */
  duplicateNotifications: number;
  /** Hold each message until the next one is published (or a flush), then push newest first. */
  reorderNotifications: boolean;
}

export interface PushRetryPolicy {
  /** First redelivery delay; real Pub/Sub's minimum backoff is 10 s, scaled down for tests. */
  initialBackoffMs: number;
  maxBackoffMs: number;
  /**
   * Delivery attempts before the emulator gives up on a message. Real Pub/Sub keeps
   * retrying until the retention period (7 days) or a dead-letter policy ends it.
   */
  maxAttempts: number;
}

export interface PushAttempt {
  messageId: string;
  attempt: number;
  /** HTTP status, or 0 for a network error / ack-deadline timeout. */
  status: number;
  acked: boolean;
  error?: string;
  at: number;
}

export interface PushLog {
  published: number;
  /** HTTP POSTs made (including redeliveries and duplicates). */
  attempts: number;
  /** Attempts that were acknowledged. */
  delivered: number;
  dropped: number;
  duplicated: number;
  /** Messages given up on after `maxAttempts`. */
  abandoned: number;
  /** Status of every attempt, in order (0 = network error / timeout). */
  status: number[];
  history: PushAttempt[];
}

export interface PushSubscriptionOptions {
  /** `projects/P/subscriptions/S`. */
  subscription: string;
  /** Signs the OIDC token for one push (claims are the caller's business). */
  signToken: (audience: string) => Promise<string>;
  faults: PushFaults;
  retry?: Partial<PushRetryPolicy>;
  /** How long the endpoint may take to answer before the push counts as a NACK (Pub/Sub default 10 s). */
  ackDeadlineMs?: number;
  now?: () => number;
  random?: () => number;
}

interface QueuedMessage {
  messageId: string;
  data: string;
  attributes: Record<string, string>;
  publishTime: string;
}

const ACK_STATUSES = new Set([102, 200, 201, 202, 204]);

export class PushSubscription {
  readonly log: PushLog = { published: 0, attempts: 0, delivered: 0, dropped: 0, duplicated: 0, abandoned: 0, status: [], history: [] };
  private endpoint: string | undefined;
  private audience: string | undefined;
  private nextMessageId: number;
  private held: QueuedMessage[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly controller = new AbortController();
  /** Keep-alive sockets for http: endpoints (https: ones go through fetch, which checks certificates). */
  private readonly agent = new Agent({ keepAlive: true });
  private readonly retry: PushRetryPolicy;
  private readonly now: () => number;
  private readonly random: () => number;
  private closed = false;

  constructor(private readonly options: PushSubscriptionOptions) {
    this.retry = { initialBackoffMs: 100, maxBackoffMs: 1_600, maxAttempts: 6, ...(options.retry ?? {}) };
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    // Pub/Sub message ids are decimal strings of 16-ish digits.
    this.nextMessageId = 4_000_000_000_000_000 + Math.floor(this.random() * 1_000_000_000_000);
    // Every push in flight links its ack deadline to this signal (one listener each, removed at the
    // answer): a busy subscription has far more than Node's default 10 at once, which is no leak.
    setMaxListeners(0, this.controller.signal);
  }

  get subscription(): string {
    return this.options.subscription;
  }

  get pushEndpoint(): string | undefined {
    return this.endpoint;
  }

  /** The `aud` claim: the configured audience, else the endpoint URL (Pub/Sub's default). */
  get pushAudience(): string | undefined {
    return this.audience ?? this.endpoint;
  }

  setEndpoint(endpoint: string, audience?: string): void {
    this.endpoint = endpoint;
    this.audience = audience;
  }

  /**
   * Publishes one message. Never delivers synchronously: the push happens on a
   * later tick, so no publisher's request ever waits for the subscriber.
   * Returns the messageId, or undefined when there is no push endpoint yet
   * (a topic without a subscription keeps nothing).
   */
  publish(data: Buffer | string, attributes: Record<string, string> = {}): string | undefined {
    if (this.closed || this.endpoint === undefined) return undefined;
    const messageId = String(this.nextMessageId);
    this.nextMessageId += 1 + Math.floor(this.random() * 1_000);
    this.log.published++;
    const message: QueuedMessage = {
      messageId,
      data: Buffer.from(data).toString('base64'),
      attributes,
      publishTime: new Date(this.now()).toISOString(),
    };
    if (this.random() < this.options.faults.dropNotifications) {
      this.log.dropped++;
      return messageId;
    }
    if (this.options.faults.reorderNotifications) {
      this.held.push(message);
      if (this.held.length >= 2) this.releaseHeld();
      return messageId;
    }
    this.dispatch(message);
    return messageId;
  }

  /** Resolves once every published message was pushed (acked, or given up on). */
  async flush(): Promise<void> {
    this.releaseHeld();
    while (this.inFlight.size > 0) {
      await Promise.allSettled([...this.inFlight]);
      this.releaseHeld();
    }
  }

  close(): void {
    this.closed = true;
    this.held = [];
    this.controller.abort();
    this.agent.destroy();
  }

  /**
   * Pushes the held messages newest first, one after the other: two pushes in flight at once could
   * arrive in either order, and the fault promises the newer one lands first.
   */
  private releaseHeld(): void {
    const batch = this.held.reverse();
    this.held = [];
    if (batch.length === 0) return;
    // The duplicate rolls happen now, in publish order, as for messages pushed at once.
    const plan = batch.map((message) => ({ message, copies: this.copiesOf(message) }));
    this.track(async () => {
      for (const { message, copies } of plan) await Promise.all(copies.map(() => this.deliver(message)));
    });
  }

  private dispatch(message: QueuedMessage): void {
    for (const _copy of this.copiesOf(message)) this.track(() => this.deliver(message));
  }

  /** One entry per push of the message: two when the duplicate fault strikes. */
  private copiesOf(_message: QueuedMessage): number[] {
    const duplicated = this.random() < this.options.faults.duplicateNotifications;
    if (duplicated) this.log.duplicated++;
    return duplicated ? [1, 2] : [1];
  }

  private track(push: () => Promise<void>): void {
    const task = (async () => {
      // A macrotask later: the publishing API request has answered before the push starts.
      await new Promise((resolve) => setImmediate(resolve));
      await push();
    })();
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }

  private async deliver(message: QueuedMessage): Promise<void> {
    for (let attempt = 1; attempt <= this.retry.maxAttempts && !this.closed; attempt++) {
      if (attempt > 1) {
        const backoff = Math.min(this.retry.initialBackoffMs * 2 ** (attempt - 2), this.retry.maxBackoffMs);
        await sleep(backoff);
        if (this.closed) return;
      }
      if (await this.attempt(message, attempt)) return;
    }
    if (!this.closed) this.log.abandoned++;
  }

  private async attempt(message: QueuedMessage, attempt: number): Promise<boolean> {
    const endpoint = this.endpoint;
    if (endpoint === undefined) return false;
    this.log.attempts++;
    const record: PushAttempt = { messageId: message.messageId, attempt, status: 0, acked: false, at: this.now() };
    try {
      const token = await this.options.signToken(this.pushAudience ?? endpoint);
      const body = JSON.stringify({
        message: {
          attributes: message.attributes,
          data: message.data,
          messageId: message.messageId,
          message_id: message.messageId,
          publishTime: message.publishTime,
          publish_time: message.publishTime,
        },
        subscription: this.options.subscription,
      });
      // The ack deadline as a timer cleared at the answer, and the emulator's close as a listener
      // removed then (core's linkedSignal): `AbortSignal.any` + `AbortSignal.timeout` per push cost the
      // shared bench box a linked signal per push and a timeout that fired 10 s later.
      const deadline = linkedSignal(this.controller.signal, {
        ms: this.options.ackDeadlineMs ?? 10_000,
        reason: () => new DOMException('The push was not acknowledged in time', 'TimeoutError'),
      });
      try {
        const headers = {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'user-agent': 'APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)',
        };
        const url = new URL(endpoint);
        if (url.protocol === 'http:') {
          record.status = await postOverHttp(this.agent, url, headers, body, deadline.signal);
        } else {
          const response = await fetch(endpoint, { method: 'POST', headers, body, redirect: 'manual', signal: deadline.signal });
          // Drain the body so keep-alive sockets are reused; its content is irrelevant to Pub/Sub.
          await response.arrayBuffer().catch(() => undefined);
          record.status = response.status;
        }
        record.acked = ACK_STATUSES.has(record.status);
      } finally {
        deadline.release();
      }
    } catch (error) {
      record.error = (error as Error).message;
    }
    this.log.status.push(record.status);
    this.log.history.push(record);
    if (record.acked) this.log.delivered++;
    return record.acked;
  }
}
