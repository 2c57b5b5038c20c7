// The soak's provider side as a process of its own: the Gmail emulator (which keeps every delivered
// message), the mail generator and the ground truth live here, so the test process that samples
// heap and RSS holds threadlink alone. Started by `startSoakEmulator` (`soak-emulator.ts`) with
// `node --import tsx --conditions=source`, configured by THREADLINK_SOAK_EMULATOR (JSON), answering
// orders over the IPC channel: every order carries an id, every answer repeats it.
//   ready { providerOptions }                     the emulator serves, push endpoint set, mailboxes added
//   answer { id, value } | answer { id, error }    one per order (see `SoakEmulatorCall`)
import { startGmailEmulator } from '@threadlink/testing';
import { childHostConfig } from '@threadlink/testing/child-host';
import { expectedGmail } from './ground-truth.js';
import { seededRandom } from './random.js';
import { type SoakEmulatorConfig, type SoakEmulatorOrder, type SoakEmulatorReport, soakMailbox } from './soak-emulator.js';

const { config, report } = childHostConfig<SoakEmulatorConfig, SoakEmulatorReport>(
  'THREADLINK_SOAK_EMULATOR',
  'soak-emulator-process.ts is started by the reliability soak (THREADLINK_SOAK_EMULATOR env and an IPC channel)',
);

const google = await startGmailEmulator({ notificationIntervalMs: 20, pushRetry: { initialBackoffMs: 100, maxBackoffMs: 1_000, maxAttempts: 1_000 } });
google.setPushEndpoint({ endpoint: config.pushEndpoint });
const emails = Array.from({ length: config.mailboxes }, (_, index) => soakMailbox(index));
for (const email of emails) google.addMailbox({ email });
const random = seededRandom(config.seed);
let sent = 0;

async function mail(ratePerSecond: number, durationMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < durationMs) {
    const second = Date.now();
    for (let index = 0; index < ratePerSecond; index += 1) {
      sent += 1;
      await google.deliver({ from: 'buyer@bigco.test', to: random.pick(emails), subject: `Soak ${sent}`, text: 'hello' });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1_000 - (Date.now() - second))));
  }
  return sent;
}

async function answer(order: SoakEmulatorOrder): Promise<unknown> {
  switch (order.method) {
    case 'authorize':
      return google.authorize(order.url, { email: order.email });
    case 'mail':
      return mail(order.ratePerSecond, order.durationMs);
    case 'sent':
      return sent;
    case 'flush':
      await google.flushNotifications();
      return null;
    case 'expectedCounts':
      return Object.fromEntries(emails.map((email) => [email, expectedGmail(google, email).size]));
    case 'expectedIds':
      return [...expectedGmail(google, order.email).keys()];
  }
}

process.on('message', (order: SoakEmulatorOrder) => {
  answer(order).then(
    (value) => report({ type: 'answer', id: order.id, value }),
    (error: unknown) => report({ type: 'answer', id: order.id, error: String(error) }),
  );
});
process.once('SIGTERM', () => {
  void google.close().finally(() => process.exit(0));
});
report({ type: 'ready', providerOptions: JSON.parse(JSON.stringify(google.providerOptions)) as Record<string, unknown> });
