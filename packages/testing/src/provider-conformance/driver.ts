// What runProviderConformance needs from a provider's emulator: a small, provider-neutral remote
// control. Each emulator ships one beside it (gmailConformanceDriver, graphConformanceDriver); a
// third-party adapter author implements the same interface for their own emulator. Nothing here
// talks to threadlink: the suite drives threadlink, the driver drives the "provider".
import type { ProviderId } from '@threadlink/core/provider';

/** One message arriving in a mailbox. */
export interface ConformanceMail {
  /** The connected mailbox that receives it (only this mailbox gets a copy). */
  to: string;
  from: string;
  subject: string;
  /** At least one of text and html; a provider that keeps one body part may keep html only. */
  text?: string;
  html?: string;
  /** When it was received (default: now). */
  date?: Date;
}

/**
 * How the world connects a mailbox through an organization (issue 19) instead of the user's own
 * consent: it connects the org once — `tl.org.connect.direct` with `direct()`'s input (Google: a
 * service account key), or `tl.org.connect.start` → `adminConsent` → the admin's browser back at
 * `/connect/org/callback` (Microsoft) — then adds each further mailbox with `tl.org.addMailboxes`.
 * A driver that has it runs the whole suite on org connections; `revokeGrant` then withdraws the
 * org's grant (delegation deleted, app removed from the tenant). Give exactly one of the two.
 */
export interface ConformanceOrganization {
  /** The customer's directory: the Workspace primary domain, or the Microsoft tenant. */
  readonly directoryId: string;
  /** Direct connect: the admin `tl.org.connect.direct` names and the credentials it takes. */
  direct?(): Promise<{ adminEmail: string; credentials: unknown }>;
  /** Admin consent: the admin approves on the provider's consent page; resolves to the redirect (callback) URL. */
  adminConsent?(adminConsentUrl: string): Promise<string>;
}

export interface ProviderConformanceDriver {
  /** The provider id the adapter registers (what `tl.connect.start({ provider })` takes). */
  readonly provider: ProviderId;
  /**
   * Where the host's threadlink receives this provider's pushes (`tl.urls.webhook(provider)`).
   * Providers whose subscriptions carry the URL (Graph) learn it at subscribe and may ignore it.
   */
  pointPushesAt(webhookUrl: string): void;
  /** Present when mailboxes are connected through an organization (the world's `connect` then uses `tl.org.*`). */
  readonly organization?: ConformanceOrganization;
  /** Creates the mailbox if it does not exist yet (idempotent); with `organization`, a user of the org. */
  addMailbox(email: string): void;
  /** Completes the provider's consent page for `email`; resolves to the redirect (OAuth callback) URL. */
  consent(authorizeUrl: string, email: string): Promise<string>;
  deliver(mail: ConformanceMail): Promise<void>;
  /**
   * Delivers the mails oldest first, but makes their pushes reach the webhook newest first, one
   * push per mail. Resolves once every push was answered.
   */
  deliverWithPushesReordered(mails: ConformanceMail[]): Promise<void>;
  /** From now on every push is delivered twice (true) or once again (false). */
  duplicatePushes(on: boolean): void;
  /** How many pushes were delivered twice so far (proves the fault struck). */
  duplicatedPushes(): number;
  /** Change-notification POSTs made to the webhook so far (redeliveries and duplicates included). */
  pushesSent(): number;
  /** Delivers every pending push and waits for the webhook's answers. */
  flushPushes(): Promise<void>;
  /** The mailbox's sync cursor stops being valid (Gmail: history expired; Graph: delta token 410). */
  expireCursor(mailbox: string): void;
  /** The user revokes the grant (with `organization`: the admin withdraws the org's): refresh and access tokens stop working. */
  revokeGrant(mailbox: string): void;
  /** The next send is carried out by the provider, but its answer never reaches the adapter. */
  loseNextSendAnswer(): void;
  /** Metadata reads of single messages the provider served for a mailbox so far (batch parts included). */
  messageReads(mailbox: string): number;
  /** Subjects of every message in a mailbox, as the provider holds it (e.g. replies a recipient got). */
  subjectsIn(mailbox: string): string[];
  close(): Promise<void>;
}
