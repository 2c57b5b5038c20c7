// A minimal OpenTelemetry tracer for the host: it only times spans by name, so the bench can split
// a push→matched latency into the SDK's own spans (webhook handling, the provider pull, matching,
// the store write) and what lies between them (queueing, lease, session).
import { context, trace, type Context, type Span, type SpanContext, type Tracer } from '@opentelemetry/api';

export interface TimedSpan {
  name: string;
  start: number;
  end: number;
}

const NO_CONTEXT: SpanContext = { traceId: '00000000000000000000000000000000', spanId: '0000000000000000', traceFlags: 0 };

export function installSpanTimer(now: () => number, keep: (span: TimedSpan) => void): void {
  class TimingSpan implements Span {
    private readonly started = now();
    constructor(private name: string) {}
    spanContext(): SpanContext {
      return NO_CONTEXT;
    }
    setAttribute(): this {
      return this;
    }
    setAttributes(): this {
      return this;
    }
    addEvent(): this {
      return this;
    }
    addLink(): this {
      return this;
    }
    addLinks(): this {
      return this;
    }
    setStatus(): this {
      return this;
    }
    updateName(name: string): this {
      this.name = name;
      return this;
    }
    end(): void {
      keep({ name: this.name, start: this.started, end: now() });
    }
    isRecording(): boolean {
      return true;
    }
    recordException(): void {}
  }
  const tracer: Tracer = {
    startSpan: (name: string) => new TimingSpan(name),
    startActiveSpan: ((name: string, ...rest: unknown[]) => {
      const fn = rest.at(-1) as (span: Span) => unknown;
      const parent = (rest.length >= 3 ? rest[1] : context.active()) as Context;
      const span = new TimingSpan(name);
      return context.with(trace.setSpan(parent, span), fn, undefined, span);
    }) as Tracer['startActiveSpan'],
  };
  trace.setGlobalTracerProvider({ getTracer: () => tracer });
}

/** Span names of the store calls timed for BENCH_TIMELINE (not SDK spans: the breakdown leaves them out). */
export const STORE_CALL_PREFIX = 'store call: ';

/**
 * BENCH_TIMELINE's store timing: each asynchronous method of the store, called through the store
 * object, becomes a span named `store call: <method>`, kept as the SDK's spans are. A diagnostic
 * (where the database round trips sit on a push's path); the bench's figures never use it.
 */
export function timeStoreCalls(store: object, now: () => number, keep: (span: TimedSpan) => void): void {
  const methods = store as Record<string, unknown>;
  for (const [name, method] of Object.entries(methods)) {
    if (typeof method !== 'function') continue;
    methods[name] = (...args: unknown[]): unknown => {
      const start = now();
      const answer: unknown = method.apply(store, args);
      if (answer instanceof Promise) {
        answer.then(
          () => keep({ name: `${STORE_CALL_PREFIX}${name}`, start, end: now() }),
          () => keep({ name: `${STORE_CALL_PREFIX}${name} (failed)`, start, end: now() }),
        );
      }
      return answer;
    };
  }
}
