// Organization connections (issue 19): one admin approval for a whole customer organization —
// Microsoft 365 application permissions (admin consent + client credentials) or Google Workspace
// domain-wide delegation (a service account + the JWT-bearer grant) — which OWNS ordinary mailbox
// connections, one per chosen mailbox (user or shared). Those connections carry `orgId` and are
// otherwise the same rows as a user's own: timelines, matching, health, policy and offboarding
// work on them unchanged.
import { z } from 'zod';
import { EmailAddress, ProviderId } from './schemas.js';

const EpochMs = z.number().int().nonnegative();

export const OrganizationStatus = z.enum([
  /** Admin consent asked, not yet granted (the connect flow is under way). */
  'pending',
  /** Credentials work; mailboxes are being opened or are live. */
  'active',
  /** The grant stopped working (admin consent revoked, service-account key deleted): every mailbox is needs_reauth. */
  'needs_reauth',
  'disconnected',
]);
export type OrganizationStatus = z.infer<typeof OrganizationStatus>;

/** A mailbox of the org is a person's (`user`) or a shared mailbox (`shared`: sales@, support@). */
export const OrgMailboxKind = z.enum(['user', 'shared']);
export type OrgMailboxKind = z.infer<typeof OrgMailboxKind>;

/**
 * Which mailboxes of the organization are synced. The union of: every user of the directory
 * (`all`), the members of `groups` (Microsoft: group object ids; Google: group email addresses),
 * the explicit `mailboxes`, and the `shared` mailboxes (addresses). `tl.org.sync()` re-reads the
 * directory and applies it: mailboxes that joined are connected, those that left are offboarded.
 */
export const OrgSelection = z.strictObject({
  all: z.boolean().default(false),
  groups: z.array(z.string().min(1).max(256)).max(100).default([]),
  mailboxes: z.array(EmailAddress).max(10_000).default([]),
  shared: z.array(EmailAddress).max(1_000).default([]),
});
export type OrgSelection = z.infer<typeof OrgSelection>;
export type OrgSelectionInput = z.input<typeof OrgSelection>;

/**
 * The org's app credentials, sealed at rest as a whole (`Organization.sealedCredentials`, purpose
 * 'org-credentials') and unsealed only for a call (`ProviderSession.grant`).
 * - microsoft: the host's own app (clientId / clientSecret in outlookProvider's options) acts in the
 *   customer's tenant `directoryId`; nothing else is needed, the app token cache is kept here.
 * - google: the customer's service account key (the Workspace admin authorised its client id for
 *   the Gmail scopes, domain-wide) and the admin the Directory API impersonates.
 */
export const OrgCredentials = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('microsoft-app'),
    /** Adapter-owned serialized state (the MSAL client-credentials token cache). */
    cache: z.string().optional(),
  }),
  z.strictObject({
    kind: z.literal('google-service-account'),
    clientEmail: EmailAddress,
    privateKey: z.string().min(1).max(10_000),
    privateKeyId: z.string().max(256).optional(),
    /** The Workspace admin impersonated for Directory API listings (`admin.directory.user.readonly`). */
    adminEmail: EmailAddress,
  }),
]);
export type OrgCredentials = z.infer<typeof OrgCredentials>;

/**
 * A mailbox of the selection the org could not open at the last sync (added in phase 1 of issue 19):
 * `forbidden` (outside an Exchange application access policy, not delegated) or `not_found`.
 * Reported on the org's health and not retried until the next `tl.org.sync()`.
 */
export const OrgMailboxProblem = z.strictObject({
  email: EmailAddress,
  mailboxId: z.string().min(1).max(256),
  reason: z.enum(['forbidden', 'not_found']),
  /** The provider's short reason (never message content). */
  message: z.string().max(512),
  at: EpochMs,
});
export type OrgMailboxProblem = z.infer<typeof OrgMailboxProblem>;

export const Organization = z.strictObject({
  id: z.string().min(1),
  tenantId: z.string().min(1),
  /** The host user (the admin in the CRM) who connected the organization. */
  userId: z.string().min(1),
  provider: ProviderId,
  /** Microsoft: the customer's Entra tenant id (GUID). Google: the Workspace primary domain. */
  directoryId: z.string().min(1).max(256),
  displayName: z.string().max(512).nullable(),
  status: OrganizationStatus,
  /** AES-256-GCM sealed OrgCredentials; never the clear text. */
  sealedCredentials: z.string().min(1),
  selection: OrgSelection,
  /** When the directory was last read and applied (`tl.org.sync`), null before the first time. */
  lastSyncAt: EpochMs.nullable(),
  /** Mailboxes of the selection that could not be opened at the last sync (see OrgMailboxProblem). */
  problems: z.array(OrgMailboxProblem).max(10_000).default([]),
  createdAt: EpochMs,
  updatedAt: EpochMs,
});
export type Organization = z.infer<typeof Organization>;
