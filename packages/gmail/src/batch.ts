// Gmail-only, with no Outlook counterpart file: Graph's $batch is a JSON POST that Outlook's
// client.ts sends like any request, while Google's is a multipart/mixed body that needs its own
// encoder and parser, kept here.
//
// Google's batch endpoint, which the Node client does not implement: one multipart/mixed POST to
// /batch/gmail/v1 carrying up to 100 `application/http` parts (Google advises ≤ 50). Each part is
// charged as its own call and answers on its own, so a 200 batch can hold 429s and 404s.
// developers.google.com/workspace/gmail/api/guides/batch
import { randomUUID } from 'node:crypto';
import type { GmailClient, RequestOptions } from './client.js';
import { UNITS } from './rate-limit.js';

export interface BatchRequestPart {
  /** Echoed back as `response-<contentId>`. */
  contentId: string;
  /** A path below the API root, e.g. `gmail/v1/users/me/messages/ID?format=metadata`. */
  path: string;
}

export interface BatchResponsePart {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

function parseHeaderBlock(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function splitHead(text: string): [string, string] {
  const match = /\r?\n\r?\n/.exec(text);
  return match ? [text.slice(0, match.index), text.slice(match.index + match[0].length)] : [text, ''];
}

function parseBody(text: string): unknown {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return trimmed;
  }
}

/** Parses a multipart/mixed batch answer into parts keyed by the Content-ID we sent. */
function parseBatchResponse(text: string, contentType: string | null): Map<string, BatchResponsePart> {
  const declared = /boundary="?([^";]+)"?/i.exec(contentType ?? '')?.[1];
  const boundary = declared ?? /^--([^\r\n]+)/.exec(text.trimStart())?.[1];
  const answers = new Map<string, BatchResponsePart>();
  if (!boundary) return answers;
  for (const rawPart of text.split(`--${boundary}`)) {
    const part = rawPart.replace(/^\r?\n/, '');
    if (!part.trim() || part.startsWith('--')) continue;
    const [outerHead, http] = splitHead(part);
    const outer = parseHeaderBlock(outerHead);
    const contentId = /^<?(?:response-)?([^>]+)>?$/.exec(outer['content-id'] ?? '')?.[1];
    const [innerHead, body] = splitHead(http);
    const [statusLine = '', ...headerLines] = innerHead.split(/\r?\n/);
    const status = Number(/^HTTP\/[\d.]+\s+(\d{3})/.exec(statusLine.trim())?.[1]);
    if (!contentId || !Number.isInteger(status)) continue;
    answers.set(contentId, { status, headers: parseHeaderBlock(headerLines.join('\n')), body: parseBody(body) });
  }
  return answers;
}

function buildBatchBody(parts: readonly BatchRequestPart[], apiRootUrl: string, boundary: string): string {
  const lines: string[] = [];
  for (const part of parts) {
    const target = new URL(part.path, apiRootUrl);
    lines.push(`--${boundary}`, 'Content-Type: application/http', `Content-ID: <${part.contentId}>`, '', `GET ${target.pathname}${target.search}`, '');
  }
  lines.push(`--${boundary}--`, '');
  return lines.join('\r\n');
}

/**
 * Sends one batch of messages.get. The outer request goes through `client.call`, charged as its
 * parts, so an outer 401/429/5xx is handled like any call; a part answering 401 is raised as a 401
 * too (the token is shared by all parts, so a refresh-and-resend of the whole batch is the only fix).
 */
export async function sendBatch(client: GmailClient, parts: readonly BatchRequestPart[]): Promise<Map<string, BatchResponsePart>> {
  const send = async (request: RequestOptions): Promise<{ data: Map<string, BatchResponsePart> }> => {
    const boundary = `batch_${randomUUID().replace(/-/g, '')}`;
    const response = await client.oauth.request<string>({
      url: new URL('batch/gmail/v1', client.options.apiRootUrl).toString(),
      method: 'POST',
      headers: { 'content-type': `multipart/mixed; boundary=${boundary}` },
      data: buildBatchBody(parts, client.options.apiRootUrl, boundary),
      responseType: 'text',
      ...request,
    });
    const answers = parseBatchResponse(response.data, response.headers.get('content-type'));
    const unauthorized = [...answers.values()].find((answer) => answer.status === 401);
    if (unauthorized) throw Object.assign(new Error('Gmail batch part answered 401'), { response: { status: 401, data: unauthorized.body } });
    return { data: answers };
  };
  return client.call('batch', send, { units: parts.length * UNITS['messages.get'] });
}
