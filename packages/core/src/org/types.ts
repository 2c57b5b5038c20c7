// The public shapes of `tl.org.*` (issue 19), re-exported from api.ts.
import type { ConnectStartResult, Scope } from '../api.js';
import type { OrganizationStatus, OrgMailboxKind, OrgMailboxProblem, OrgSelectionInput } from '../domain/organization.js';
import type { ConnectionStatus } from '../domain/schemas.js';
import type { ConnectionHealth } from '../health/health.js';
import type { PublicOrganization } from './access.js';

export type { PublicOrganization } from './access.js';

export interface OrgDirectConnectInput {
  tenantId: string;
  /** The host user (the CRM admin) connecting the organization. */
  userId: string;
  provider: string;
  /** Google: the Workspace primary domain. */
  directoryId: string;
  /** Google: the Workspace admin the Directory API impersonates. */
  adminEmail: string;
  /** Google: the service account key file's JSON. Sealed at rest; never logged or emitted. */
  credentials: unknown;
  selection: OrgSelectionInput;
}

/** What one application of the selection did, by mailbox address (sorted). */
export interface OrgSyncReport {
  orgId: string;
  added: string[];
  removed: string[];
  /** The app may not act on these (reported on health.problems, not retried until the next sync). */
  forbidden: string[];
  /** No such mailbox in the directory any more (reported the same way). */
  notFound: string[];
  unchanged: string[];
  /**
   * Already synced by a connection this org does not own (a user connected it themselves, or
   * another organization of the tenant has it): one connection per mailbox and tenant, so that one
   * is left as it is — its owner's tokens, cursor and links — and this org does not take it over.
   */
  alreadyConnected: string[];
  /** Another sync of this org was running: this one did nothing. */
  inProgress: boolean;
}

export interface OrgMailboxHealth extends ConnectionHealth {
  connectionId: string;
  email: string;
  kind: OrgMailboxKind;
}

export interface OrgHealth {
  orgId: string;
  status: OrganizationStatus;
  lastSyncAt: number | null;
  /** Mailbox connections by status. */
  counts: Partial<Record<ConnectionStatus, number>>;
  problems: OrgMailboxProblem[];
  mailboxes: OrgMailboxHealth[];
}

export interface OrgMailboxChange {
  mailboxes?: string[];
  shared?: string[];
  groups?: string[];
}

export interface OrgConnectStartInput {
  tenantId: string;
  /** The host user (the CRM admin) connecting the organization; the flow is bound to their browser. */
  userId: string;
  provider: string;
  selection: OrgSelectionInput;
  /** Where the admin's browser goes after the callback (same origin as publicUrl or a relative path): `?org=<id>` or `?error=<code>`. */
  returnTo?: string;
  /** The customer's tenant id or verified domain, when known ('organizations' otherwise). */
  directoryHint?: string;
}

/** The admin-consent URL, its sealed state, and the cookie to set (scoped to `/connect/org/callback`). */
export type OrgConnectStartResult = ConnectStartResult;

export interface OrgCommands {
  readonly connect: {
    /**
     * Providers with `organization.adminConsentUrl` (Microsoft): the admin-consent URL. The admin's
     * browser comes back to `${publicUrl}/connect/org/callback` (tl.handler), which saves the org and
     * opens its mailboxes in the background.
     */
    start(input: OrgConnectStartInput): Promise<OrgConnectStartResult>;
    /** Providers with `organization.connectDirect` (Google service account): validate, seal, save, then sync. */
    direct(input: OrgDirectConnectInput): Promise<{ organization: PublicOrganization; report: OrgSyncReport }>;
  };
  get(scope: Scope, orgId: string): Promise<PublicOrganization>;
  list(scope: Scope): Promise<PublicOrganization[]>;
  /** Adds to the selection and applies it. Admin scope or the org's connecting user. */
  addMailboxes(scope: Scope, orgId: string, change: OrgMailboxChange): Promise<OrgSyncReport>;
  /** Removes an explicit or shared mailbox from the selection and applies it (the mailbox is offboarded). */
  removeMailbox(scope: Scope, orgId: string, email: string): Promise<OrgSyncReport>;
  /**
   * Names the host user a mailbox of the org belongs to (its `userId`; by default the admin who
   * connected the org). That user then owns it like their own connection: their ingestion-policy
   * rules (`tl.policy.*` with `{ tenantId, userId }`), replies and sends from it. The mailbox stays
   * visible to the tenant's users, and the org keeps syncing it. Admin scope or the org's connecting user.
   */
  assignMailbox(scope: Scope, orgId: string, email: string, userId: string): Promise<{ connectionId: string }>;
  /** Re-reads the directory and applies the selection. */
  sync(scope: Scope, orgId: string): Promise<OrgSyncReport>;
  /** Stops every mailbox's push, purges every mailbox's rows, deletes the org and its sealed credentials. */
  disconnect(scope: Scope, orgId: string): Promise<{ mailboxes: number }>;
  health(scope: Scope, orgId: string): Promise<OrgHealth>;
}
