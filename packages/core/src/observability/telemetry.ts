// Metrics and traces through @opentelemetry/api only: no SDK is forced on the host, and with no
// provider registered every call is a no-op. Instruments are looked up lazily so a host that
// registers its MeterProvider after createThreadlink() still gets data.
// Attributes are ids and provider names only — never addresses, subjects or bodies.
import { metrics, SpanStatusCode, trace, type Attributes, type Counter, type Histogram, type MeterProvider } from '@opentelemetry/api';

const SCOPE = '@threadlink/core';

interface Instruments {
  notificationsReceived: Counter;
  notificationsRejected: Counter;
  syncs: Counter;
  messagesStored: Counter;
  messagesDeleted: Counter;
  providerCalls: Counter;
  rateLimited: Counter;
  retries: Counter;
  notificationToStored: Histogram;
  providerCallDuration: Histogram;
}

export interface Telemetry {
  notificationReceived(provider: string, hints: number): void;
  notificationRejected(provider: string, code: string): void;
  syncCompleted(provider: string, kind: string): void;
  messagesStored(provider: string, count: number): void;
  messagesDeleted(provider: string, count: number): void;
  providerCall(provider: string, method: string, durationMs: number, outcome: string): void;
  rateLimited(provider: string): void;
  /** A job failed retryably: labelled by the connection's provider, the error code and the job kind. */
  retry(provider: string, code: string, kind: string): void;
  notificationToStored(provider: string, latencyMs: number): void;
  span<T>(name: string, attributes: Attributes, run: () => Promise<T>): Promise<T>;
}

export function createTelemetry(): Telemetry {
  let cachedFor: MeterProvider | undefined;
  let cached: Instruments | undefined;
  const instruments = (): Instruments => {
    const provider = metrics.getMeterProvider();
    if (cached && cachedFor === provider) return cached;
    const meter = provider.getMeter(SCOPE);
    cachedFor = provider;
    cached = {
      notificationsReceived: meter.createCounter('threadlink.notifications.received', { description: 'Verified push notifications' }),
      notificationsRejected: meter.createCounter('threadlink.notifications.rejected', { description: 'Forged or malformed webhooks' }),
      syncs: meter.createCounter('threadlink.syncs', { description: 'Completed sync jobs' }),
      messagesStored: meter.createCounter('threadlink.messages.stored', { description: 'Message metadata rows inserted or updated' }),
      messagesDeleted: meter.createCounter('threadlink.messages.deleted'),
      providerCalls: meter.createCounter('threadlink.provider.calls', { description: 'MailProvider operations by method and outcome' }),
      rateLimited: meter.createCounter('threadlink.provider.rate_limited', { description: '429 / rate-limit answers' }),
      retries: meter.createCounter('threadlink.retries', { description: 'Jobs that failed retryably, by provider, error code and job kind' }),
      notificationToStored: meter.createHistogram('threadlink.notification_to_stored', { unit: 'ms', description: 'Push received → rows committed' }),
      providerCallDuration: meter.createHistogram('threadlink.provider.call.duration', { unit: 'ms' }),
    };
    return cached;
  };
  const tracer = () => trace.getTracer(SCOPE);
  return {
    notificationReceived: (provider, hints) => instruments().notificationsReceived.add(1, { provider, hints }),
    notificationRejected: (provider, code) => instruments().notificationsRejected.add(1, { provider, code }),
    syncCompleted: (provider, kind) => instruments().syncs.add(1, { provider, kind }),
    messagesStored: (provider, count) => count > 0 && instruments().messagesStored.add(count, { provider }),
    messagesDeleted: (provider, count) => count > 0 && instruments().messagesDeleted.add(count, { provider }),
    providerCall: (provider, method, durationMs, outcome) => {
      instruments().providerCalls.add(1, { provider, method, outcome });
      instruments().providerCallDuration.record(durationMs, { provider, method });
    },
    rateLimited: (provider) => instruments().rateLimited.add(1, { provider }),
    retry: (provider, code, kind) => instruments().retries.add(1, { provider, code, kind }),
    notificationToStored: (provider, latencyMs) => instruments().notificationToStored.record(latencyMs, { provider }),
    async span(name, attributes, run) {
      return tracer().startActiveSpan(name, { attributes }, async (span) => {
        try {
          return await run();
        } catch (error) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as { code?: string }).code ?? 'error' });
          throw error;
        } finally {
          span.end();
        }
      });
    },
  };
}
