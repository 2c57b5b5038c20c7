// The Graph emulator's driver for runProviderConformance: the provider-neutral remote control
// (deliver, fault notifications, expire the delta token, revoke, lose a send's answer) mapped onto
// this emulator.
import type { ConformanceOrganization, ProviderConformanceDriver } from '../provider-conformance/driver.js';
import { startGraphEmulator } from './emulator.js';
import type { GraphEmulator, GraphEmulatorOptions } from './types.js';

export interface GraphConformanceDriver extends ProviderConformanceDriver {
  /** The emulator itself: build the adapter from `emulator.providerOptions`. */
  readonly emulator: GraphEmulator;
}

export interface GraphConformanceOptions extends GraphEmulatorOptions {
  /**
   * Connect the suite's mailboxes through the tenant by application permissions (admin consent +
   * client credentials, `/users/{id}`) instead of each user's consent. `revokeGrant` then removes the app from the tenant.
   */
  organization?: boolean;
}

/** The tenant admin who grants admin consent in organization mode. */
const ORG_ADMIN = 'admin@owner.test';

/** Graph's duplicate fault is a count; "on" arms more than any suite case delivers. */
const DUPLICATE_ALL = 1_000;

export async function graphConformanceDriver(options: GraphConformanceOptions = {}): Promise<GraphConformanceDriver> {
  const { organization, ...emulatorOptions } = options;
  const ms = await startGraphEmulator(emulatorOptions);
  const addMailbox = (email: string): void => {
    try {
      ms.addMailbox({ email });
    } catch {
      // Already there.
    }
  };
  let org: ConformanceOrganization | undefined;
  if (organization) {
    addMailbox(ORG_ADMIN);
    ms.org.makeAdmin(ORG_ADMIN);
    org = { directoryId: ms.tenantId, adminConsent: (adminConsentUrl) => ms.authorize(adminConsentUrl, { email: ORG_ADMIN }) };
  }
  let armedDuplicates = 0;
  let duplicated = 0;
  const settleDuplicates = (): void => {
    duplicated += armedDuplicates - ms.faults.duplicateNotifications;
    armedDuplicates = ms.faults.duplicateNotifications;
  };
  const deliver = async (mail: Parameters<GraphConformanceDriver['deliver']>[0]): Promise<void> => {
    await ms.deliver({
      to: mail.to,
      from: mail.from,
      subject: mail.subject,
      mailbox: mail.to,
      ...(mail.text !== undefined ? { text: mail.text } : {}),
      ...(mail.html !== undefined ? { html: mail.html } : {}),
      ...(mail.date !== undefined ? { date: mail.date } : {}),
    });
  };

  return {
    provider: 'outlook',
    emulator: ms,
    // Graph posts to the notificationUrl each subscription was created with: nothing to point.
    pointPushesAt: () => undefined,
    ...(org ? { organization: org } : {}),
    addMailbox,
    consent: (authorizeUrl, email) => ms.authorize(authorizeUrl, { email }),
    deliver,
    async deliverWithPushesReordered(mails) {
      // Changes made in one tick share one dispatch; with the fault, it goes out one notification
      // per POST, newest first.
      ms.faults.reorderNotifications = true;
      try {
        await Promise.all(mails.map((mail) => deliver(mail)));
        await ms.flushNotifications();
      } finally {
        ms.faults.reorderNotifications = false;
      }
    },
    duplicatePushes: (on) => {
      settleDuplicates();
      ms.faults.duplicateNotifications = on ? DUPLICATE_ALL : 0;
      armedDuplicates = ms.faults.duplicateNotifications;
    },
    duplicatedPushes: () => {
      settleDuplicates();
      return duplicated;
    },
    pushesSent: () => ms.deliveries().filter((delivery) => delivery.kind === 'notification').length,
    flushPushes: () => ms.flushNotifications(),
    expireCursor: (mailbox) => ms.expireDeltaTokens(mailbox),
    revokeGrant: (mailbox) => (organization ? ms.org.revokeAdminConsent() : ms.revokeTokens(mailbox)),
    loseNextSendAnswer: () => ms.failAfter('messages.send', { status: 'drop' }),
    messageReads: (mailbox) => ms.log.count({ mailbox, operation: 'messages.get' }),
    subjectsIn: (mailbox) => ms.messages(mailbox).map((message) => message.subject),
    close: () => ms.close(),
  };
}
