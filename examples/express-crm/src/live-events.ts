// Pushes threadlink's events to open pages over Server-Sent Events. What goes out is metadata
// the page already shows (ids, subject, sender, the records and reasons) — never a body —
// and only to pages of the tenant the event belongs to.
import type { Response } from 'express';
import type { MessageMeta, RecordLink, Threadlink } from '@threadlink/core';

type LiveEventName =
  | 'message.matched'
  | 'message.deleted'
  | 'backfill.progress'
  | 'backfill.done'
  | 'connection.live'
  | 'connection.needs_reauth'
  | 'connection.stalled'
  | 'connection.disconnected'
  | 'contact.suggested';

interface Subscriber {
  tenantId: string;
  response: Response;
}

export interface LiveEvents {
  /** Keeps `response` open as an event stream until the client goes away. */
  attach(tenantId: string, response: Response): void;
  readonly subscribers: number;
  close(): void;
}

// Proxies and browsers drop idle streams; a comment line every 20 s keeps them open.
const HEARTBEAT_MS = 20_000;

const messageSummary = (message: MessageMeta) => ({
  messageId: message.id,
  threadId: message.threadId,
  connectionId: message.connectionId,
  provider: message.provider,
  subject: message.subject,
  from: message.from?.address ?? null,
  direction: message.direction,
  receivedAt: message.receivedAt,
});

const linkSummary = (link: RecordLink) => ({
  type: link.record.type,
  id: link.record.id,
  label: link.record.label ?? link.record.id,
  rule: link.rule,
  reason: link.reason,
});

export function createLiveEvents(tl: Threadlink): LiveEvents {
  const subscribers = new Set<Subscriber>();

  const send = (tenantId: string, name: LiveEventName, data: unknown): void => {
    const frame = `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const subscriber of subscribers) if (subscriber.tenantId === tenantId) subscriber.response.write(frame);
  };

  const unsubscribe = [
    tl.on('message.matched', ({ message, links }) =>
      send(message.tenantId, 'message.matched', { ...messageSummary(message), records: links.filter((link) => !link.suppressed).map(linkSummary) }),
    ),
    tl.on('message.deleted', ({ tenantId, connectionId, messageId }) => send(tenantId, 'message.deleted', { connectionId, messageId })),
    tl.on('backfill.progress', ({ tenantId, connectionId, done, estimatedTotal, progress }) =>
      send(tenantId, 'backfill.progress', { connectionId, done, estimatedTotal, state: progress.state }),
    ),
    tl.on('backfill.done', ({ tenantId, connectionId, total }) => send(tenantId, 'backfill.done', { connectionId, total })),
    tl.on('connection.live', ({ connection }) =>
      send(connection.tenantId, 'connection.live', { connectionId: connection.id, provider: connection.provider, status: connection.status }),
    ),
    tl.on('connection.needs_reauth', ({ connection, reason }) =>
      send(connection.tenantId, 'connection.needs_reauth', { connectionId: connection.id, provider: connection.provider, status: 'needs_reauth', reason }),
    ),
    tl.on('connection.stalled', ({ connection, reason }) =>
      send(connection.tenantId, 'connection.stalled', { connectionId: connection.id, provider: connection.provider, reason }),
    ),
    tl.on('connection.disconnected', ({ tenantId, connectionId, purged }) => send(tenantId, 'connection.disconnected', { connectionId, purged })),
    // The page reloads its "People you email" list; the address is enough to say who.
    tl.on('contact.suggested', ({ tenantId, suggestion }) => send(tenantId, 'contact.suggested', { address: suggestion.address })),
  ];

  const heartbeat = setInterval(() => {
    for (const subscriber of subscribers) subscriber.response.write(': keep-alive\n\n');
  }, HEARTBEAT_MS);
  heartbeat.unref();

  return {
    attach(tenantId, response) {
      response.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        // nginx and similar proxies buffer responses unless told otherwise.
        'x-accel-buffering': 'no',
      });
      // `retry` tells EventSource how soon to reconnect after the server restarts.
      response.write('retry: 2000\n: connected\n\n');
      const subscriber: Subscriber = { tenantId, response };
      subscribers.add(subscriber);
      response.on('close', () => subscribers.delete(subscriber));
    },
    get subscribers() {
      return subscribers.size;
    },
    close() {
      clearInterval(heartbeat);
      for (const off of unsubscribe) off();
      for (const subscriber of subscribers) subscriber.response.end();
      subscribers.clear();
    },
  };
}
