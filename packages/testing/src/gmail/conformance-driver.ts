// The Gmail emulator's driver for runProviderConformance: the provider-neutral remote control
// (deliver, fault pushes, expire the cursor, revoke, lose a send's answer) mapped onto this emulator.
import type { ConformanceOrganization, ProviderConformanceDriver } from '../provider-conformance/driver.js';
import { startGmailEmulator, type GmailEmulator, type GmailEmulatorOptions } from './emulator.js';

/** The `aud` of the emulator's push tokens, fixed at start so `providerOptions` can be spread at once. */
const PUSH_AUDIENCE = 'https://crm.example.test/threadlink/webhooks/gmail';

/** The Workspace domain of an organization driver: the suite's mailboxes (ana@owner.test) are its users. */
const ORG_DOMAIN = 'owner.test';
const ORG_ADMIN = `admin@${ORG_DOMAIN}`;
const GOOGLE = 'https://www.googleapis.com/auth/';
/** The scopes a full-mode host asks the admin to delegate (the gmail README's list). */
const DELEGATED_SCOPES = [
  `${GOOGLE}gmail.readonly`,
  `${GOOGLE}gmail.send`,
  `${GOOGLE}admin.directory.user.readonly`,
  `${GOOGLE}admin.directory.group.member.readonly`,
];

export interface GmailConformanceOptions extends GmailEmulatorOptions {
  /**
   * Connect the suite's mailboxes through a Workspace org by domain-wide delegation (`tl.org.connect.direct`
   * with a service account key) instead of each user's consent. `revokeGrant` then withdraws the delegation.
   */
  organization?: boolean;
}

export interface GmailConformanceDriver extends ProviderConformanceDriver {
  /** The emulator itself: build the adapter from `emulator.providerOptions`. */
  readonly emulator: GmailEmulator;
}

/**
 * Starts a Gmail emulator for the conformance suite. Gmail's one-notification-per-second window
 * is shortened to 20 ms (the rule still applies, the waits are short).
 */
export async function gmailConformanceDriver(options: GmailConformanceOptions = {}): Promise<GmailConformanceDriver> {
  const { organization, ...emulatorOptions } = options;
  const google = await startGmailEmulator({
    notificationIntervalMs: 20,
    pushAudience: PUSH_AUDIENCE,
    ...(organization ? { workspaceDomain: ORG_DOMAIN } : {}),
    ...emulatorOptions,
  });
  const org = organization ? await delegatedWorkspace(google) : undefined;
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
    ...(org ? { organization: org.hook } : {}),
    addMailbox: (email) => (org && email.toLowerCase().endsWith(`@${ORG_DOMAIN}`) ? org.addUser(email) : google.addMailbox({ email })),
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
    revokeGrant: (mailbox) => (org ? org.withdraw() : google.revokeTokens(mailbox)),
    loseNextSendAnswer: () => google.failAfter('messages.send', { status: 'drop' }),
    messageReads: (mailbox) => google.log.count({ mailbox, operation: 'messages.get' }),
    subjectsIn: (mailbox) => google.messages(mailbox).map((message) => message.subject),
    close: () => google.close(),
  };
}

interface DelegatedWorkspace {
  hook: ConformanceOrganization;
  addUser(email: string): void;
  /** The admin deletes the client id from the delegation table; the hour of the tokens already issued passes. */
  withdraw(): void;
}

/** The org's admin, a service account key, and its client id authorised domain-wide for the Gmail and Directory scopes. */
async function delegatedWorkspace(google: GmailEmulator): Promise<DelegatedWorkspace> {
  const { workspace } = google;
  workspace.addUser({ email: ORG_ADMIN, name: 'Ada Admin', isAdmin: true });
  const key = await workspace.createServiceAccount('threadlink-sync');
  workspace.authorizeDelegation(key.client_id, DELEGATED_SCOPES);
  return {
    hook: { directoryId: ORG_DOMAIN, direct: async () => ({ adminEmail: ORG_ADMIN, credentials: key }) },
    addUser: (email) => {
      if (!workspace.users.has(email.toLowerCase())) workspace.addUser({ email });
    },
    withdraw: () => {
      workspace.revokeDelegation(key.client_id);
      google.advanceClock(3_600_000);
    },
  };
}
