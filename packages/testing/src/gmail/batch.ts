// POST /batch/gmail/v1 — multipart/mixed, one `application/http` part per inner
// request (request line, headers, optional body). The outer headers (Authorization)
// apply to every part unless the part sets its own. The answer is 200 with one
// `application/http` part per request, `Content-ID: <response-…>` echoing the
// request's Content-ID; each inner call is charged and may fail on its own
// (a 429 inside the 200). At most 100 calls per batch.
// developers.google.com/workspace/gmail/api/guides/batch
import { Readable } from 'node:stream';
import { STATUS_CODES } from 'node:http';
import { randomUUID } from 'node:crypto';
import { parseJsonBody, type EmulatorRequest, type EmulatorResponse, type RequestLog, type Router } from '../common/server.js';
import { invalidArgument } from './errors.js';

const MAX_BATCH_PARTS = 100;

interface InnerRequest {
  contentId: string | undefined;
  method: string;
  target: string;
  headers: Record<string, string>;
  body: Buffer;
}

function splitHead(text: string): { head: string; rest: string } {
  const match = /\r?\n\r?\n/.exec(text);
  if (!match) return { head: text, rest: '' };
  return { head: text.slice(0, match.index), rest: text.slice(match.index + match[0].length) };
}

function parseHeaderLines(head: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

function parseParts(body: string, boundary: string): InnerRequest[] | string {
  const escaped = boundary.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const sections = body.split(new RegExp(`(?:^|\\r?\\n)--${escaped}`));
  const requests: InnerRequest[] = [];
  for (const section of sections.slice(1)) {
    if (section.startsWith('--')) break;
    const { head: partHead, rest: http } = splitHead(section.replace(/^[ \t]*\r?\n/, ''));
    const partHeaders = parseHeaderLines(partHead);
    const { head: requestHead, rest: requestBody } = splitHead(http);
    const [requestLine = '', ...headerLines] = requestHead.split(/\r?\n/);
    const [method, target] = requestLine.trim().split(/\s+/);
    if (!method || !target) return `Malformed batch part: '${requestLine.trim()}'`;
    requests.push({
      contentId: partHeaders['content-id'],
      method: method.toUpperCase(),
      target,
      headers: parseHeaderLines(headerLines.join('\n')),
      body: Buffer.from(requestBody.replace(/\r?\n$/, ''), 'latin1'),
    });
  }
  return requests;
}

function encodeBody(response: EmulatorResponse): { text: string; contentType: string | undefined } {
  const body = response.body;
  const declared = response.headers?.['content-type'];
  if (body === undefined || body === null) return { text: '', contentType: declared };
  if (Buffer.isBuffer(body)) return { text: body.toString('latin1'), contentType: declared };
  if (typeof body === 'string') return { text: Buffer.from(body, 'utf8').toString('latin1'), contentType: declared ?? 'text/plain; charset=UTF-8' };
  return { text: Buffer.from(JSON.stringify(body), 'utf8').toString('latin1'), contentType: declared ?? 'application/json; charset=UTF-8' };
}

export async function handleBatch(request: EmulatorRequest, router: Router, log: RequestLog, now: () => number): Promise<EmulatorResponse> {
  const record = (status: number): void => log.record({ at: now(), method: request.method, path: request.path, status, operation: 'batch', units: 0 });
  const boundary = /boundary="?([^";]+)"?/i.exec(request.headers['content-type'] ?? '')?.[1];
  if (!/^multipart\/mixed/i.test(request.headers['content-type'] ?? '') || !boundary) {
    record(400);
    return invalidArgument('Batch requests must be multipart/mixed with a boundary');
  }
  const parts = parseParts(request.body.toString('latin1'), boundary);
  if (typeof parts === 'string') {
    record(400);
    return invalidArgument(parts);
  }
  if (parts.length > MAX_BATCH_PARTS) {
    record(400);
    return invalidArgument(`Too many requests in batch: ${parts.length} (the limit is ${MAX_BATCH_PARTS})`);
  }
  const inherited: Record<string, string | string[] | undefined> = { ...request.headers };
  delete inherited['content-type'];
  delete inherited['content-length'];
  const responseBoundary = `batch_${randomUUID().replace(/-/g, '')}`;
  let output = '';
  let dropped = false;
  for (const part of parts) {
    const url = new URL(part.target, request.url);
    const inner: EmulatorRequest = {
      method: part.method,
      url,
      path: url.pathname,
      headers: { ...inherited, ...part.headers },
      body: part.body,
      params: {},
      json<T>() {
        return parseJsonBody<T>(part.body);
      },
      form() {
        return new URLSearchParams(part.body.toString('utf8'));
      },
    };
    let response: EmulatorResponse;
    const found = url.pathname.startsWith('/gmail/v1/') ? router.match(part.method, url.pathname) : null;
    if (found === null)
      response = { status: 404, body: { error: { code: 404, message: `No such Gmail API method: ${part.method} ${url.pathname}`, status: 'NOT_FOUND' } } };
    else if (found === 'method') response = { status: 405, body: { error: { code: 405, message: 'Method not allowed', status: 'UNIMPLEMENTED' } } };
    else {
      inner.params = found.params;
      response = await found.handler(inner);
    }
    // A streamed answer is read whole here: a batch answers in one body.
    if (response.body instanceof Readable) response = { ...response, body: Buffer.concat(await response.body.toArray()) };
    // A part whose answer is to be lost loses the whole batch's answer: it shares one connection.
    if (response.drop) dropped = true;
    const { text, contentType } = encodeBody(response);
    const contentId = part.contentId ? `<response-${part.contentId.replace(/^<|>$/g, '')}>` : undefined;
    output += `--${responseBoundary}\r\nContent-Type: application/http\r\n${contentId ? `Content-ID: ${contentId}\r\n` : ''}\r\n`;
    output += `HTTP/1.1 ${response.status} ${STATUS_CODES[response.status] ?? ''}\r\n`;
    if (contentType) output += `Content-Type: ${contentType}\r\n`;
    for (const [name, value] of Object.entries(response.headers ?? {})) if (name.toLowerCase() !== 'content-type') output += `${name}: ${value}\r\n`;
    output += `Content-Length: ${Buffer.byteLength(text, 'latin1')}\r\n\r\n${text}\r\n`;
  }
  output += `--${responseBoundary}--\r\n`;
  if (dropped) {
    record(0);
    return { status: 0, drop: true };
  }
  record(200);
  return {
    status: 200,
    headers: { 'content-type': `multipart/mixed; boundary=${responseBoundary}` },
    body: Buffer.from(output, 'latin1'),
  };
}
