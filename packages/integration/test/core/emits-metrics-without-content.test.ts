// Metrics and spans go through @opentelemetry/api to whatever SDK the host registered; here an
// in-memory reader and exporter. Attributes carry ids and provider names only.
import { metrics, trace } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ThreadlinkError } from '@threadlink/core';
import { internalsOf } from '@threadlink/core/testing';
import { connectedHarness, startedHarness } from './support/harness.js';
import { scriptedMailbox } from './support/scripted-provider.js';

class InMemoryReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const reader = new InMemoryReader();
const spans = new InMemorySpanExporter();

beforeAll(() => {
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }));
});
afterAll(() => {
  metrics.disable();
  trace.disable();
});

describe('telemetry', () => {
  it('counts notifications, syncs, stored messages and provider calls, with no addresses or subjects', async () => {
    const { tl, mailbox } = await connectedHarness();
    const subject = 'Confidential merger plans PRJ-1042';
    mailbox.add({ subject, from: 'secret.person@bigco.com' });
    const response = await tl.handler(
      new Request('https://crm.example.test/threadlink/webhooks/gmail', { method: 'POST', body: JSON.stringify({ account: 'ana@acme.com', id: 'n-1' }) }),
    );
    expect(response.status).toBe(202);
    await tl.handler(new Request('https://crm.example.test/threadlink/webhooks/gmail', { method: 'POST', body: '{broken' }));
    await tl.idle();
    await tl.stop();

    const { resourceMetrics } = await reader.collect();
    const byName = new Map(resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).map((metric) => [metric.descriptor.name, metric]));
    const total = (name: string): number =>
      (byName.get(name)?.dataPoints ?? []).reduce(
        (sum, point) => sum + (typeof point.value === 'number' ? point.value : (point.value as { count: number }).count),
        0,
      );
    expect(total('threadlink.notifications.received')).toBe(1);
    expect(total('threadlink.notifications.rejected')).toBe(1);
    expect(total('threadlink.messages.stored')).toBeGreaterThanOrEqual(1);
    expect(total('threadlink.syncs')).toBeGreaterThanOrEqual(1);
    expect(total('threadlink.provider.calls')).toBeGreaterThanOrEqual(2);
    expect(total('threadlink.notification_to_stored')).toBeGreaterThanOrEqual(1);

    const spanNames = spans.getFinishedSpans().map((span) => span.name);
    expect(spanNames).toEqual(
      expect.arrayContaining(['threadlink.webhook', 'threadlink.provider.pullChanges', 'threadlink.match', 'threadlink.store.applySync']),
    );

    const everything = JSON.stringify({
      metrics: resourceMetrics,
      spans: spans.getFinishedSpans().map((span) => ({ name: span.name, attributes: span.attributes })),
    });
    expect(everything).not.toContain('secret.person');
    expect(everything).not.toContain('merger');
    expect(everything).not.toContain('ana@acme.com');
  });

  it('labels a retry with the provider of the failing mailbox, the error code and the job kind', async () => {
    const mailbox = scriptedMailbox('ana@acme.com', 'imap-test');
    const { tl } = await startedHarness({}, mailbox);
    const { state } = await tl.connect.start({ provider: 'imap-test', tenantId: 't1', userId: 'u1' });
    const connection = await tl.connect.complete({ code: 'code-1', state }, { tenantId: 't1', userId: 'u1' });
    await tl.idle();
    mailbox.failPulls.push(new ThreadlinkError('RATE_LIMITED', 'slow down', { retryAfterMs: 5 }));
    mailbox.add({ subject: 'after throttling' });
    await internalsOf(tl).engine.requestSync(connection.id, 'push');
    await tl.idle();
    await tl.stop();

    const { resourceMetrics } = await reader.collect();
    const retries = resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics).find((metric) => metric.descriptor.name === 'threadlink.retries');
    expect(retries?.dataPoints.map((point) => ({ attributes: point.attributes, value: point.value }))).toEqual([
      { attributes: { provider: 'imap-test', code: 'RATE_LIMITED', kind: 'sync' }, value: 1 },
    ]);
  });
});
