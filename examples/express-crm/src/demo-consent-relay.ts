// Demo mode only. The Microsoft identity emulator must speak HTTPS (msal-node refuses a
// plain-http authority) with a certificate made at start-up, which a browser would warn about
// on the consent page. So the page's "Connect Outlook" link (and a Microsoft 365 organization's
// admin-consent link) points here instead, and this relay forwards the page and its form post to
// the emulator, trusting the emulator's CA. The answer still goes emulator → browser →
// /threadlink/oauth/callback (or /threadlink/connect/org/callback), as with Microsoft.
import { request as httpsRequest } from 'node:https';
import type { RequestHandler } from 'express';

/** The paths of Microsoft's v2.0 authorize and admin-consent pages, for any tenant segment. */
const AUTHORIZE_PATH = /^\/[A-Za-z0-9.-]+\/(oauth2\/v2\.0\/authorize|v2\.0\/adminconsent)$/;

// Only what a consent page needs crosses the relay, in either direction.
const FORWARDED_RESPONSE_HEADERS = ['content-type', 'location', 'cache-control'];

export function consentRelay(input: { identityUrl: string; caCertificate: string }): {
  handler: RequestHandler;
  rewrite(authorizeUrl: string, appOrigin: string): string;
} {
  const identity = new URL(input.identityUrl);
  const handler: RequestHandler = (request, response, next) => {
    if (!AUTHORIZE_PATH.test(request.path) || (request.method !== 'GET' && request.method !== 'POST')) {
      next();
      return;
    }
    const target = new URL(request.originalUrl, identity);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const outgoing = httpsRequest(
        target,
        {
          method: request.method,
          ca: input.caCertificate,
          headers: {
            ...(request.headers['content-type'] ? { 'content-type': request.headers['content-type'] } : {}),
            'content-length': String(body.length),
          },
        },
        (answer) => {
          const headers: Record<string, string> = {};
          for (const name of FORWARDED_RESPONSE_HEADERS) {
            const value = answer.headers[name];
            if (typeof value === 'string') headers[name] = value;
          }
          response.writeHead(answer.statusCode ?? 502, headers);
          answer.pipe(response);
        },
      );
      outgoing.on('error', next);
      outgoing.end(body);
    });
  };
  return {
    handler,
    rewrite(authorizeUrl, appOrigin) {
      const url = new URL(authorizeUrl);
      if (url.origin !== identity.origin || !AUTHORIZE_PATH.test(url.pathname)) return authorizeUrl;
      return `${appOrigin}${url.pathname}${url.search}`;
    },
  };
}
