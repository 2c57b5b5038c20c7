// publicUrl as threadlink uses it: webhooks at {publicUrl}/webhooks/{provider}[/lifecycle] and the
// OAuth callback at {publicUrl}/oauth/callback (a trailing slash is dropped the same way).
export type ParsedPublicUrl = { ok: true; url: URL; base: string } | { ok: false; problem: string };

export function parsePublicUrl(text: string | undefined): ParsedPublicUrl {
  if (!text) return { ok: false, problem: 'THREADLINK_PUBLIC_URL is not set' };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, problem: `THREADLINK_PUBLIC_URL "${text}" is not an absolute URL` };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { ok: false, problem: `THREADLINK_PUBLIC_URL uses ${url.protocol} (expected https:)` };
  if (url.search || url.hash) return { ok: false, problem: 'THREADLINK_PUBLIC_URL carries a query or fragment, which providers would mangle' };
  if (url.username || url.password) return { ok: false, problem: 'THREADLINK_PUBLIC_URL embeds credentials' };
  return { ok: true, url, base: `${url.origin}${url.pathname.replace(/\/+$/, '')}` };
}

/** localhost, *.localhost, 127.0.0.0/8 and ::1: reachable by this machine only, never by Google or Microsoft. */
export function isLoopback(url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host.endsWith('.localhost') || /^127(?:\.\d{1,3}){3}$/.test(host) || host === '::1';
}

export const webhookUrl = (base: string, provider: 'gmail' | 'outlook', route?: 'lifecycle'): string =>
  `${base}/webhooks/${provider}${route ? `/${route}` : ''}`;

export const redirectUri = (base: string): string => `${base}/oauth/callback`;
