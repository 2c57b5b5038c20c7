// Outbound HTTP from the emulator to the app's webhook endpoints. Only
// loopback targets are allowed: the emulator never sends traffic off-host.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface WebhookResponse {
  /** 0 when the endpoint timed out or refused the connection. */
  status: number;
  contentType: string;
  body: string;
  timedOut: boolean;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopbackUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === 'http:' || url.protocol === 'https:') && LOOPBACK_HOSTS.has(url.hostname);
}

export function postWebhook(target: string, body: string, contentType: string, timeoutMs: number): Promise<WebhookResponse> {
  return new Promise((resolve) => {
    if (!isLoopbackUrl(target)) {
      resolve({ status: 0, contentType: '', body: '', timedOut: false });
      return;
    }
    const url = new URL(target);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    let settled = false;
    const finish = (response: WebhookResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(response);
    };
    const outgoing = send(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': contentType,
          'content-length': Buffer.byteLength(body),
          'user-agent': 'Microsoft-Graph-Change-Notifications-Emulator',
          connection: 'close',
        },
        agent: false,
      },
      (incoming) => {
        const chunks: Buffer[] = [];
        incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
        incoming.on('end', () =>
          finish({
            status: incoming.statusCode ?? 0,
            contentType: String(incoming.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
            timedOut: false,
          }),
        );
        incoming.on('error', () => finish({ status: 0, contentType: '', body: '', timedOut: false }));
      },
    );
    const timer = setTimeout(() => {
      finish({ status: 0, contentType: '', body: '', timedOut: true });
      outgoing.destroy();
    }, timeoutMs);
    outgoing.on('error', () => finish({ status: 0, contentType: '', body: '', timedOut: false }));
    outgoing.end(body);
  });
}
