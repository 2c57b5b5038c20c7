// Graph's subscription validation, as Graph performs it: POST {url}?validationToken=<token> with
// an empty text/plain body; the endpoint must answer within 10 s with 200, Content-Type text/plain
// and exactly the URL-decoded token (learn.microsoft.com/graph/change-notifications-delivery-webhooks
// #notificationurl-validation). The token mimics Graph's own, spaces and colons included, so an
// endpoint that forgets to URL-decode it is caught.
import { randomUUID } from 'node:crypto';
import { fail, pass, type CheckOutcome } from '../report.js';
import { excerpt, probe } from './probe.js';

export async function validationHandshake(fetchImpl: typeof fetch, url: string, timeoutMs: number): Promise<CheckOutcome> {
  const token = `Validation: Testing client application reachability for subscription Request-Id: ${randomUUID()}`;
  const separator = url.includes('?') ? '&' : '?';
  const answer = await probe(
    fetchImpl,
    `${url}${separator}validationToken=${encodeURIComponent(token)}`,
    { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8', accept: 'text/plain' }, body: '' },
    timeoutMs,
  );
  const seconds = (timeoutMs / 1000).toLocaleString('en', { maximumFractionDigits: 1 });
  if (!answer.ok && answer.reason === 'timeout') {
    return fail(
      `${url} did not answer the validation request within ${seconds} s (Graph's limit), so Graph refuses to create or renew the subscription.`,
      'Answer validation requests before any auth middleware, body parser or slow start-up work: route {publicUrl}/webhooks/outlook straight to tl.handler and keep the app warm.',
    );
  }
  if (!answer.ok)
    return fail(
      `${url} is unreachable: ${answer.message}.`,
      'Start the app and make sure THREADLINK_PUBLIC_URL reaches it from here (DNS, TLS certificate, firewall, reverse proxy).',
    );
  const contentType = answer.headers.get('content-type') ?? '(none)';
  if (answer.status !== 200) {
    const because =
      answer.status === 401 || answer.status === 403
        ? 'Something in front of threadlink demands authentication; Graph sends none on validation, so exempt this path from auth middleware.'
        : answer.status === 404
          ? 'Mount toNodeHandler(tl.handler) at the path of THREADLINK_PUBLIC_URL and pass outlookProvider to createThreadlink.'
          : answer.status >= 300 && answer.status < 400
            ? `It redirects to ${answer.headers.get('location') ?? '?'}; use the final address in THREADLINK_PUBLIC_URL (Graph does not follow redirects).`
            : answer.status === 400 || answer.status === 415
              ? 'A body parser in front of threadlink rejects the empty text/plain body; route this path to tl.handler before any JSON parser.'
              : 'Route {publicUrl}/webhooks/outlook straight to tl.handler and check the app’s logs for this request.';
    return fail(`${url} answered the validation request with ${answer.status} (${excerpt(answer.text)}); Graph needs 200.`, because);
  }
  if (!/^text\/plain\b/i.test(contentType)) {
    return fail(
      `${url} answered the validation request with Content-Type ${contentType}${answer.text === token ? ' (the right token, the wrong type)' : answer.text.includes(token) ? ' (the token wrapped in markup)' : ''}; Graph requires text/plain.`,
      'Return the decoded token as the whole body with Content-Type: text/plain (no HTML, no JSON); tl.handler does this when nothing in front rewrites its response.',
    );
  }
  if (answer.text !== token) {
    const what =
      answer.text === encodeURIComponent(token)
        ? 'the token still URL-encoded'
        : answer.text.trim() === token
          ? 'the token with extra whitespace'
          : answer.text.includes(token)
            ? 'the token with extra content around it'
            : `"${excerpt(answer.text, 60)}" instead of the token`;
    return fail(
      `${url} answered 200 text/plain with ${what}; Graph requires exactly the decoded validationToken.`,
      'Echo the URL-decoded validationToken query parameter as the entire body, unchanged; tl.handler does this when nothing in front rewrites its response.',
    );
  }
  return pass(`${url} echoed the validation token as text/plain in ${answer.elapsedMs} ms.`);
}
