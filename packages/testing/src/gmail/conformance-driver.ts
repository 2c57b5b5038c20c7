// The Gmail emulator's driver for runProviderConformance: the provider-neutral remote control
// (deliver, fault pushes, expire the cursor, revoke, lose a send's answer) mapped onto this emulator.
import type { ProviderConformanceDriver } from '../provider-conformance/driver.js';
import { startGmailEmulator, type GmailEmulator, type GmailEmulatorOptions } from './emulator.js';

/** The `aud` of the emulator's push tokens, fixed at start so `providerOptions` can be spread at once. */
const PUSH_AUDIENCE = 'https://crm.example.test/threadlink/webhooks/gmail';

export interface GmailConformanceDriver extends ProviderConformanceDriver {
  /** The emulator itself: build the adapter from `emulator.providerOptions`. */
  readonly emulator: GmailEmulator;
}

/**
 * Starts a Gmail emulator for the conformance suite. Gmail's one-notification-per-second window
 * is shortened to 20 ms (the rule still applies, the waits are short).
 */
export async function gmailConformanceDriver(options: GmailEmulatorOptions = {}): Promise<GmailConformanceDriver> {
  const google = await startGmailEmulator({ notificationIntervalMs: 20, pushAudience: PUSH_AUDIENCE, ...options });
  const deliver = async (mail: Parameters<GmailConformanceDriver['deliver']>[0]): Promise<void> => {
    await google.deliver({
      to: mail.to,
      from: mail.from,
      subject: mail.subject,
      mailbox: mail.to,
      ...(mail.text !== undefined ? { text: mail.text } : {}),
      ...(mail.html !== undefined ? { html: mail.html } : {}),
      ...(mail.date !== undefined ? { date: mail.date } : {}),
    });
  };
  /** Gmail publishes at most one notification per window: wait until this change got its own. */
  const untilPublished = async (before: number): Promise<void> => {
    const deadline = Date.now() + 5_000;
    while (google.pushLog.published <= before) {
      if (Date.now() > deadline) throw new Error('gmailConformanceDriver: Gmail published no notification for a change (is the mailbox watched?)');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  };

  return {
    provider: 'gmail',
    emulator: google,
    pointPushesAt: (webhookUrl) => google.setPushEndpoint({ endpoint: webhookUrl, audience: PUSH_AUDIENCE }),
    addMailbox: (email) => google.addMailbox({ email }),
    consent: (authorizeUrl, email) => google.authorize(authorizeUrl, { email }),
    deliver,
    async deliverWithPushesReordered(mails) {
      // Pub/Sub holds the pushes and releases them in pairs, newer first.
      google.faults.reorderNotifications = true;
      try {
        for (const mail of mails) {
          const before = google.pushLog.published;
          await deliver(mail);
          await untilPublished(before);
        }
        await google.flushNotifications();
      } finally {
        google.faults.reorderNotifications = false;
      }
    },
    duplicatePushes: (on) => {
      google.faults.duplicateNotifications = on ? 1 : 0;
    },
    duplicatedPushes: () => google.pushLog.duplicated,
    pushesSent: () => google.pushLog.attempts,
    flushPushes: () => google.flushNotifications(),
    expireCursor: (mailbox) => google.expireHistory(mailbox),
    revokeGrant: (mailbox) => google.revokeTokens(mailbox),
    loseNextSendAnswer: () => google.failAfter('messages.send', { status: 'drop' }),
    messageReads: (mailbox) => google.log.count({ mailbox, operation: 'messages.get' }),
    subjectsIn: (mailbox) => google.messages(mailbox).map((message) => message.subject),
    close: () => google.close(),
  };
}
