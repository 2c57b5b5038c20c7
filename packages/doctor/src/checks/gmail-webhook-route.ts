// A push without a token must be refused by threadlink itself: a 404 means the handler is not
// mounted at publicUrl (or gmailProvider is not registered), a 2xx means something else answers
// for it, and Pub/Sub never follows redirects.
import type { DoctorCheck } from '../check.js';
import { excerpt, probe } from '../http/probe.js';
import { webhookUrl } from '../public-url.js';
import { fail, pass, skip } from '../report.js';

export const gmailWebhookRoute: DoctorCheck = {
  id: 'google.webhook-route',
  area: 'google',
  title: 'Gmail webhook route answers and refuses unauthenticated pushes',
  variables: ['THREADLINK_PUBLIC_URL'],
  async run(context) {
    if (!context.publicUrl.ok) return skip('Needs a valid THREADLINK_PUBLIC_URL (see public-url).');
    const url = webhookUrl(context.publicUrl.base, 'gmail');
    const answer = await probe(
      context.config.fetch,
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'threadlink-doctor' },
        body: JSON.stringify({ message: { data: '', messageId: 'threadlink-doctor' }, subscription: 'threadlink-doctor' }),
      },
      context.config.timeouts.requestMs,
    );
    const mount =
      'Mount toNodeHandler(tl.handler) at the path of THREADLINK_PUBLIC_URL (e.g. app.use("/threadlink", …) for …/threadlink) and pass gmailProvider to createThreadlink.';
    if (!answer.ok)
      return fail(
        `${url} did not answer: ${answer.message}.`,
        'Start the app and make sure THREADLINK_PUBLIC_URL reaches it from here (DNS, TLS certificate, firewall, reverse proxy).',
      );
    if (answer.status === 401 || answer.status === 403) return pass(`${url} refuses an unauthenticated push with ${answer.status}.`);
    if (answer.status >= 300 && answer.status < 400) {
      return fail(
        `${url} redirects (${answer.status} → ${answer.headers.get('location') ?? '?'}); Pub/Sub does not follow redirects.`,
        'Use the final address (scheme, host, path without a trailing slash) in THREADLINK_PUBLIC_URL and on the subscription.',
      );
    }
    if (answer.status === 404) return fail(`${url} answered 404 (${excerpt(answer.text)}).`, mount);
    if (answer.status >= 200 && answer.status < 300) {
      return fail(
        `${url} accepted a push without a token (${answer.status}): something in front of threadlink answers for it.`,
        'Route {publicUrl}/webhooks/gmail straight to tl.handler, with no stub, queue or body parser in front.',
      );
    }
    return fail(
      `${url} answered ${answer.status} (${excerpt(answer.text)}) where threadlink answers 401.`,
      `${mount} Nothing in front of it may reject or rewrite POSTs.`,
    );
  },
};
