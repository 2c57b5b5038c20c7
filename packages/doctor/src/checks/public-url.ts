// Google pushes and Graph notifications only reach a public https endpoint; a loopback or
// private address works against the emulators and nowhere else.
import type { DoctorCheck } from '../check.js';
import { isLoopback } from '../public-url.js';
import { fail, pass, warn } from '../report.js';

const PRIVATE_IPV4 = /^(10\.\d+|192\.168|172\.(1[6-9]|2\d|3[01]))\.\d+\.\d+$/;

export const publicUrlCheck: DoctorCheck = {
  id: 'public-url',
  area: 'general',
  title: 'Public URL is https and public',
  variables: ['THREADLINK_PUBLIC_URL'],
  async run({ publicUrl }) {
    if (!publicUrl.ok) {
      return fail(
        `${publicUrl.problem}.`,
        "Set THREADLINK_PUBLIC_URL to the same value as createThreadlink's publicUrl: the public https address tl.handler is mounted at, e.g. https://crm.example.com/threadlink.",
      );
    }
    const { url, base } = publicUrl;
    if (isLoopback(url)) {
      return warn(
        `${base} is a loopback address: fine against the emulators, but Google and Microsoft can never reach it.`,
        'Before connecting real mailboxes, serve the app on a public https address (your domain or a tunnel) and set THREADLINK_PUBLIC_URL to it.',
      );
    }
    if (url.protocol !== 'https:') {
      return fail(
        `${base} is plain http; Pub/Sub push endpoints and Graph notification URLs must be https.`,
        'Serve the app over HTTPS (a valid, publicly trusted certificate) and set THREADLINK_PUBLIC_URL to the https:// address.',
      );
    }
    if (PRIVATE_IPV4.test(url.hostname)) {
      return warn(
        `${base} is a private network address that Google and Microsoft cannot reach.`,
        'Use the public host name that routes to the app (load balancer or reverse proxy) in THREADLINK_PUBLIC_URL.',
      );
    }
    return pass(`${base} is https.`);
  },
};
