// Public shapes of the Graph + Microsoft identity platform emulator.
import type { FaultKnobs, RequestLog } from '../common/server.js';

export interface GraphEmulatorOptions {
  /** Added latency per Graph request in ms (models the provider round trip). */
  latencyMs?: number;
  /** The emulator's clock (epoch ms); token, subscription and date logic read it. */
  now?: () => number;
  clientId?: string;
  clientSecret?: string;
  /** Fixed ports (for the CLI); a free port is picked when omitted. */
  port?: number;
  identityPort?: number;
  /** Lifetime of issued access tokens. Azure AD issues 60–90 min; msal-node refreshes 5 min before expiry. */
  accessTokenLifetimeSeconds?: number;
  /** Graph waits 10 s for the validation echo; tests may shorten it. */
  validationTimeoutMs?: number;
  /** Graph waits 3 s for a 2xx on a notification POST before it counts as failed. */
  notificationTimeoutMs?: number;
  /**
   * Backoff between notification delivery attempts. Real Graph retries for up to 4 hours;
   * the emulator keeps it short and bounded so tests can flush. Default [50, 200, 800].
   */
  notificationRetryDelaysMs?: number[];
  /**
   * Randomness for every random fault decision: the `jitterMs` delay and the `errorRate` roll
   * (default Math.random). Inject a seeded generator and the same request sequence meets the
   * same failures, as `startGmailEmulator({ random })` does for Gmail.
   */
  random?: () => number;
}

export interface GraphFaults extends FaultKnobs {
  /** The next N change notifications are silently lost. */
  dropNotifications: number;
  /** The next N change notifications are delivered twice (the copy in a separate POST). */
  duplicateNotifications: number;
  /** Pending notifications go out one per POST, newest first. */
  reorderNotifications: boolean;
  /** Retry-After (seconds) on 429s — forced ones and MailboxConcurrency ones — and on 503s. */
  retryAfterSeconds: number;
  /**
   * Sent mail waits in the Outbox until releaseOutbox(), as Exchange transport can take seconds:
   * a sent draft has left Drafts but is not in Sent Items, and no recipient has it yet.
   */
  holdOutbox: boolean;
}

export interface GraphAttachmentInput {
  filename: string;
  content: string | Buffer;
  contentType?: string;
  /** An itemAttachment (an attached message) or a referenceAttachment (a cloud link) instead of a file. */
  kind?: 'item' | 'reference';
}

export interface DeliverInput {
  to: string | string[];
  from: string;
  subject: string;
  text?: string;
  html?: string;
  cc?: string | string[];
  bcc?: string | string[];
  attachments?: GraphAttachmentInput[];
  /** Message-ID of the message this one answers; threads it into the same conversation. */
  inReplyTo?: string;
  /** Forces the conversationId of every copy. */
  conversationId?: string;
  /** Folder for the copy (well-known name, display name or id). */
  folder?: string;
  date?: Date;
  /** Only create the copy in this mailbox (e.g. seed a message a mailbox was Bcc'd on). */
  mailbox?: string;
}

export interface DeliveredCopy {
  id: string;
  immutableId: string;
  conversationId: string;
  internetMessageId: string;
  mailbox: string;
  folder: string;
}

export interface DeliveredGraphMessage extends DeliveredCopy {
  /** Every copy created (recipients' inbox copies and the sender's sentitems copy). */
  copies: DeliveredCopy[];
}

export interface EmulatedAddress {
  name: string;
  address: string;
}

export interface EmulatedGraphAttachment {
  id: string;
  name: string;
  contentType: string;
  size: number;
  content: Buffer;
}

export interface EmulatedGraphMessage {
  /** The current REST id (changes when the message moves between folders). */
  id: string;
  /** The id clients see with `Prefer: IdType="ImmutableId"`. */
  immutableId: string;
  mailbox: string;
  /** Well-known folder name (inbox, sentitems, …) or the folder id for other folders. */
  folder: string;
  folderId: string;
  conversationId: string;
  internetMessageId: string;
  inReplyTo?: string;
  references: string[];
  subject: string;
  from: EmulatedAddress | null;
  to: EmulatedAddress[];
  cc: EmulatedAddress[];
  bcc: EmulatedAddress[];
  replyTo: EmulatedAddress[];
  body: { contentType: 'text' | 'html'; content: string };
  attachments: EmulatedGraphAttachment[];
  receivedDateTime: string;
  sentDateTime: string;
  isRead: boolean;
  isDraft: boolean;
  categories: string[];
}

export interface EmulatedSubscription {
  id: string;
  resource: string;
  changeType: string;
  notificationUrl: string;
  lifecycleNotificationUrl?: string;
  expirationDateTime: string;
  clientState?: string;
  mailbox: string;
}

export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';

/** One webhook POST the emulator made (validation, change or lifecycle notification). */
export interface WebhookDelivery {
  kind: 'validation' | 'notification' | 'lifecycle';
  url: string;
  attempt: number;
  /** HTTP status, or 0 when the endpoint timed out or refused the connection. */
  status: number;
  body: string;
}

export interface GraphEmulator {
  /** Graph API base over plain HTTP, e.g. http://127.0.0.1:P (requests go to /v1.0/...). */
  url: string;
  /** The same Graph API over HTTPS with the emulator's certificate. */
  secureUrl: string;
  /** https://127.0.0.1:Q — the login.microsoftonline.com stand-in (self-signed). */
  identityUrl: string;
  providerOptions: {
    clientId: string;
    clientSecret: string;
    tenant: string;
    authorityHost: string;
    graphBaseUrl: string;
    caCertificate: string;
  };
  /** The directory tenant id (`tid`) every emulated account belongs to. */
  tenantId: string;
  addMailbox(input: { email: string; name?: string }): void;
  /** The Azure AD object id (`oid`) of a mailbox's user. */
  userId(mailbox: string): string;
  deliver(input: DeliverInput): Promise<DeliveredGraphMessage>;
  deleteMessage(mailbox: string, id: string): void;
  /** `folder`: a well-known name, a folder id or a display name (as for every folder argument here). */
  moveMessage(mailbox: string, id: string, folder: string): void;
  /** A folder's id (folder: well-known name, id or display name). */
  folderId(mailbox: string, folder: string): string;
  /** A user folder under `parent` (default: the top of the mailbox); returns its id. */
  createFolder(mailbox: string, displayName: string, parent?: string): string;
  renameFolder(mailbox: string, folder: string, displayName: string): void;
  moveFolder(mailbox: string, folder: string, parent: string): void;
  /** As `DELETE /me/mailFolders/{id}`: the folder and its messages move into Deleted Items. */
  deleteFolder(mailbox: string, folder: string): void;
  updateMessage(mailbox: string, id: string, patch: { isRead?: boolean; categories?: string[]; subject?: string }): void;
  messages(mailbox: string): EmulatedGraphMessage[];
  sent(mailbox: string): EmulatedGraphMessage[];
  /** Completes every send held back by `faults.holdOutbox`: Sent Items copies, deliveries, sent() entries. */
  releaseOutbox(): void;
  authorize(authorizeUrl: string, input?: { email?: string; deny?: boolean }): Promise<string>;
  subscriptions(): EmulatedSubscription[];
  sendLifecycle(subscriptionId: string, event: LifecycleEvent): Promise<void>;
  expireSubscription(subscriptionId: string): void;
  expireDeltaTokens(mailbox: string): void;
  revokeTokens(mailbox: string): void;
  /** Moves the emulator clock forward (token lifetimes, subscription expiry). */
  advanceTime(ms: number): void;
  /** Every webhook POST made so far, in order. */
  deliveries(): WebhookDelivery[];
  faults: GraphFaults;
  /**
   * The next `count` calls of `operation` ('*' = any; names as in the request log, e.g.
   * 'messages.send', 'messages.reply', 'sendMail') are refused unprocessed with `status`
   * (default 500; 429 and 503 carry Retry-After) — or, with `'drop'`, the connection closes before
   * Graph did anything; with `'hang'`, nothing is done and nothing is answered: the connection stays
   * open until the client gives up (a stalled backend or a black-holing proxy).
   */
  failNext(operation: string, input?: { status?: number | 'drop' | 'hang'; count?: number; code?: string }): void;
  /**
   * The next `count` successful calls of `operation` are carried out (a send sends) and then
   * answered with `status` (default 500) — or, with `'drop'`, not answered: the connection closes,
   * as when a reset or a proxy loses the response; with `'hang'`, the work is done and the answer
   * never comes, the connection left open. For proving a send is not repeated blindly.
   */
  failAfter(operation: string, input?: { status?: number | 'drop' | 'hang'; count?: number; code?: string }): void;
  log: RequestLog;
  /** Application permissions (issue 19): the tenant's admins, shared mailboxes, groups, consent and access policy. */
  org: GraphOrgDriver;
  flushNotifications(): Promise<void>;
  close(): Promise<void>;
}

/** Drives the tenant side of application permissions; consent itself goes through `authorize(adminConsentUrl, { email })`. */
export interface GraphOrgDriver {
  /** Lets this mailbox's user grant tenant-wide admin consent. */
  makeAdmin(email: string): void;
  /** The user is deleted from the tenant: gone from `/users`, groups and every `/users/{id}` path (404). */
  removeUser(email: string): void;
  /** A shared mailbox (sales@, support@): a user object with no sign-in, reachable by app permissions only. */
  addSharedMailbox(input: { email: string; name?: string }): void;
  /** A security group; `groups` nests other groups (their members count as transitive members). Returns its object id. */
  addGroup(displayName: string, members: string[], groups?: string[]): string;
  /** Limits the app to these mailboxes (an Exchange application access policy / RBAC for Applications scope); null lifts it. */
  restrictAppAccess(emails: string[] | null): void;
  /** The application permissions `.default` consent grants (default: Mail.ReadBasic.All, Mail.Read.All, Mail.Send, User.Read.All, GroupMember.Read.All). */
  configureAppRoles(roles: string[]): void;
  /** The granted roles, or null before consent / after revocation. */
  grantedRoles(): string[] | null;
  /** The admin removes the app from the tenant: client credentials answer AADSTS7000229, issued app tokens stop working. */
  revokeAdminConsent(): void;
}
