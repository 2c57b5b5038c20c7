// Demo mode: the Gmail (+ Google OAuth + Pub/Sub push) and Microsoft Graph (+ identity platform)
// emulators from @threadlink/testing run in this process on 127.0.0.1, and the providers are
// pointed at them. Everything else — store, engine, webhooks, OAuth callback — is the real path.
import type { RequestHandler } from 'express';
import type { MailProvider } from '@threadlink/core';
import { gmailProvider } from '@threadlink/gmail';
import { outlookProvider } from '@threadlink/outlook';
import { signedProposalPdf } from './proposal-pdf.js';
import { consentRelay } from './demo-consent-relay.js';
import { DEMO_ORG_DOMAIN, seedDemoOrganization, type DemoOrganization } from './demo-org.js';
import { seedMicrosoftOrganization } from './demo-org-microsoft.js';
import { startGmailEmulator, startGraphEmulator, type GmailEmulator, type GraphEmulator } from '@threadlink/testing';

/** The providers the demo emulates (threadlink's provider id is open; the demo has these two). */
export const DEMO_PROVIDERS = ['gmail', 'outlook'] as const;
type DemoProvider = (typeof DEMO_PROVIDERS)[number];

/** The demo user's mailboxes, one per provider. */
const DEMO_MAILBOXES: Readonly<Record<DemoProvider, string>> = {
  gmail: 'ana@acme.example',
  outlook: 'ana@acme-outlook.example',
};
const DEMO_USER_NAME = 'Ana Ruiz';

interface DemoSendInput {
  provider: DemoProvider;
  from: string;
  subject: string;
  text?: string;
  html?: string;
}

export interface Demo {
  providers: MailProvider[];
  mailboxes: Readonly<Record<DemoProvider, string>>;
  /** "The client sends an email": delivered into the demo user's emulated inbox. */
  send(input: DemoSendInput): Promise<{ provider: DemoProvider; mailbox: string; providerMessageId: string }>;
  /** The organizations "Connect your organization" connects (see demo-org.ts, demo-org-microsoft.ts). */
  organization: Readonly<Record<DemoProvider, DemoOrganization>>;
  /** Serves the Outlook consent page on the app's own origin (see demo-consent-relay.ts). */
  consentRelay: RequestHandler;
  /** The authorize URL to send the browser to: Outlook's goes through the relay. */
  browserUrl(authorizeUrl: string, appOrigin: string): string;
  /** The running emulators, for tests that want to look behind the curtain. */
  gmail: GmailEmulator;
  graph: GraphEmulator;
  close(): Promise<void>;
}

const DAY = 24 * 3600_000;

interface SeedMessage {
  key: string;
  daysAgo: number;
  from: string;
  to?: string;
  subject: string;
  text: string;
  replyTo?: string;
  attachment?: string;
}

// A few weeks of believable history, so connecting a mailbox shows a real back-fill: a threaded
// conversation about PRJ-1042, a signed proposal, Northwind's project and work order, and a
// newsletter that matches nothing. `to` defaults to the demo mailbox; 'me' as `from` is the user.
const SEED: readonly SeedMessage[] = [
  {
    key: 'kickoff',
    daysAgo: 21,
    from: 'Bianca Ortiz <client@bigco.com>',
    subject: 'Kick-off – PRJ-1042 commissioning',
    text: 'Hi Ana,\n\nLooking forward to starting PRJ-1042 next week. Agenda attached soon.\n\nBianca',
  },
  {
    key: 'kickoff-reply',
    daysAgo: 20,
    from: 'me',
    to: 'Bianca Ortiz <client@bigco.com>',
    subject: 'Re: Kick-off – PRJ-1042 commissioning',
    replyTo: 'kickoff',
    text: 'Hi Bianca,\n\nGreat — Tuesday 9:00 on site works for us.\n\nAna',
  },
  { key: 'badges', daysAgo: 14, from: 'Pete Marsh <pm@bigco.com>', subject: 'Site access badges for your crew', text: 'Badges are ready at the front desk.' },
  {
    key: 'proposal',
    daysAgo: 10,
    from: 'Bianca Ortiz <client@bigco.com>',
    subject: 'Q-2291 proposal – signed',
    text: 'Please find the signed proposal attached.',
    attachment: 'Q-2291-signed.pdf',
  },
  {
    key: 'northwind',
    daysAgo: 7,
    from: 'Nora West <ops@northwind.example>',
    subject: 'PRJ-2077 pump station – revised schedule',
    text: 'The revised schedule moves the shutdown to the 14th.',
  },
  { key: 'valves', daysAgo: 5, from: 'Nora West <ops@northwind.example>', subject: 'WO-311 valve replacement booked', text: 'Crew booked for Thursday.' },
  {
    key: 'newsletter',
    daysAgo: 3,
    from: 'Industry Weekly <news@industry-weekly.example>',
    subject: 'This week in commissioning',
    text: 'Five things to check before start-up.',
  },
  {
    key: 'kickoff-pm',
    daysAgo: 2,
    from: 'Pete Marsh <pm@bigco.com>',
    to: 'Ana Ruiz <{me}>, Bianca Ortiz <client@bigco.com>',
    subject: 'Re: Kick-off – PRJ-1042 commissioning',
    replyTo: 'kickoff',
    text: 'Adding the loop checks to Tuesday, see you there.',
  },
];

async function seedHistory(emulators: { gmail: GmailEmulator; graph: GraphEmulator }, now: number): Promise<void> {
  for (const [provider, mailbox] of Object.entries(DEMO_MAILBOXES) as Array<[DemoProvider, string]>) {
    const me = `${DEMO_USER_NAME} <${mailbox}>`;
    const messageIds = new Map<string, string>();
    for (const seed of SEED) {
      const input = {
        from: seed.from === 'me' ? me : seed.from,
        to: (seed.to ?? me).replace('{me}', mailbox),
        subject: seed.subject,
        text: seed.text,
        date: new Date(now - seed.daysAgo * DAY),
        ...(seed.replyTo && messageIds.has(seed.replyTo) ? { inReplyTo: messageIds.get(seed.replyTo)! } : {}),
        ...(seed.attachment ? { attachments: [{ filename: seed.attachment, content: signedProposalPdf(), contentType: 'application/pdf' }] } : {}),
        mailbox,
      };
      if (provider === 'gmail') {
        const inReplyTo = input.inReplyTo;
        const delivered = await emulators.gmail.deliver({ ...input, ...(inReplyTo ? { references: [inReplyTo] } : {}) });
        messageIds.set(seed.key, delivered.messageId);
      } else {
        const delivered = await emulators.graph.deliver(input);
        messageIds.set(seed.key, delivered.internetMessageId);
      }
    }
  }
}

/**
 * Starts both emulators and returns providers wired to them. `threadlinkUrl` is where the app
 * mounts tl.handler: the Pub/Sub emulator pushes to its /webhooks/gmail (Graph learns its
 * notification URL from each subscription the adapter creates).
 */
export async function startDemo(input: { threadlinkUrl: string; seedHistory: boolean }): Promise<Demo> {
  const gmail = await startGmailEmulator({ workspaceDomain: DEMO_ORG_DOMAIN });
  let graph: GraphEmulator;
  try {
    graph = await startGraphEmulator();
  } catch (error) {
    await gmail.close();
    throw error;
  }
  gmail.setPushEndpoint({ endpoint: `${input.threadlinkUrl}/webhooks/gmail` });
  gmail.addMailbox({ email: DEMO_MAILBOXES.gmail, name: DEMO_USER_NAME });
  graph.addMailbox({ email: DEMO_MAILBOXES.outlook, name: DEMO_USER_NAME });
  const now = Date.now();
  if (input.seedHistory) await seedHistory({ gmail, graph }, now);
  const organization = {
    gmail: await seedDemoOrganization(gmail, { seedHistory: input.seedHistory, now }),
    outlook: await seedMicrosoftOrganization(graph, { ana: DEMO_MAILBOXES.outlook, seedHistory: input.seedHistory, now }),
  };

  // Spread now: the Gmail options read the push audience set just above.
  const providers = [gmailProvider({ ...gmail.providerOptions }), outlookProvider({ ...graph.providerOptions })];

  const relay = consentRelay({ identityUrl: graph.identityUrl, caCertificate: graph.providerOptions.caCertificate });

  return {
    providers,
    mailboxes: DEMO_MAILBOXES,
    organization,
    consentRelay: relay.handler,
    browserUrl: relay.rewrite,
    gmail,
    graph,
    async send({ provider, from, subject, text, html }) {
      const mailbox = DEMO_MAILBOXES[provider];
      const message = { to: mailbox, from, subject, ...(text !== undefined ? { text } : {}), ...(html !== undefined ? { html } : {}), mailbox };
      const delivered = provider === 'gmail' ? await gmail.deliver(message) : await graph.deliver(message);
      return { provider, mailbox, providerMessageId: delivered.id };
    },
    async close() {
      await Promise.allSettled([gmail.close(), graph.close()]);
    },
  };
}
