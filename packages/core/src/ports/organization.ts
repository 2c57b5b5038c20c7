// The organization part of the MailProvider port (issue 19): what an adapter implements so one
// admin approval connects many mailboxes. Optional: a provider without `organization` refuses
// `tl.org.*` with INVALID_INPUT. Core owns the flow (state, binding cookie, sealing, the store,
// connecting/offboarding mailboxes); the adapter owns the wire (consent URL, tokens, directory).
import type { OrgCredentials, OrgMailboxKind, OrgSelection } from '../domain/organization.js';
import type { ProviderTokens } from '../domain/schemas.js';
import type { Clock } from '../util/clock.js';
import type { Logger } from '../logger.js';

/**
 * The org's grant, unsealed for one call. On a mailbox connection's ProviderSession it is
 * `session.grant` (with `mailbox` set): the adapter then acts on that mailbox with app tokens
 * (Microsoft: client credentials in `directoryId`, Graph paths `/users/{mailbox}` instead of `/me`;
 * Google: the JWT-bearer grant with `sub` = `mailbox`, `userId: 'me'` unchanged) instead of the
 * session's delegated refresh token.
 */
export interface OrgGrant {
  readonly orgId: string;
  readonly directoryId: string;
  readonly credentials: OrgCredentials;
  /** Persist changed credentials (e.g. the MSAL token cache); core seals and stores them. */
  updateCredentials(credentials: OrgCredentials): Promise<void>;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly signal?: AbortSignal;
}

/** A mailbox grant: the org's grant plus the one mailbox a connection acts on. */
export interface MailboxGrant extends OrgGrant {
  /** Microsoft: the Graph user id (object id GUID). Google: the mailbox's primary address (`sub`). */
  readonly mailbox: string;
}

export interface AdminConsentUrlInput {
  /** Opaque, sealed by core (bound to the admin's browser like the connect flow); passed through unchanged. */
  state: string;
  /** Where the provider sends the admin back: `${publicUrl}/connect/org/callback`. */
  redirectUri: string;
  /** The customer's tenant id or a verified domain, when the host knows it ('organizations' otherwise). */
  directoryHint?: string;
}

export interface AdminConsentResult {
  /** The customer's directory (Microsoft tenant id). */
  directoryId: string;
  displayName: string | null;
  credentials: OrgCredentials;
}

/** What an admin gives to connect an org without a redirect (Google: the service-account key JSON). */
export interface DirectConnectInput {
  /** Google: the Workspace primary domain. */
  directoryId: string;
  /** Google: the Workspace admin the Directory API impersonates. */
  adminEmail: string;
  /** Google: the service account key file's JSON (client_email, private_key, private_key_id). */
  credentials: unknown;
}

/** One mailbox of the directory, as the selection resolves it. */
export interface DirectoryMailbox {
  /** Microsoft: the user's object id. Google: the primary address. Becomes `MailboxGrant.mailbox`. */
  id: string;
  /** The mailbox's primary SMTP address (the connection's accountEmail). */
  email: string;
  displayName: string | null;
  kind: OrgMailboxKind;
}

/** Opening one mailbox: an app token is obtained and one cheap read proves the mailbox is reachable. */
export type OpenMailboxResult =
  | { ok: true; tokens: ProviderTokens; scopes: string[]; displayName: string | null }
  /**
   * `forbidden`: the app may not act on this mailbox (Exchange application access policy / RBAC
   * for applications: 403 ErrorAccessDenied; Google: `sub` not delegated or the user suspended).
   * Reported on the org's health, not retried until the next `tl.org.sync()`.
   * `not_found`: no such mailbox (left the org). `revoked`: the org grant itself is gone.
   */
  | { ok: false; reason: 'forbidden' | 'not_found' | 'revoked'; message: string };

export interface OrganizationSupport {
  /** Microsoft: the `/adminconsent` URL. Absent when the provider connects by `connectDirect` only. */
  adminConsentUrl?(input: AdminConsentUrlInput): string | Promise<string>;
  /**
   * Microsoft: the admin came back to the redirect URI with these query parameters (`tenant`,
   * `admin_consent`, or `error`/`error_description`). Verifies a client-credentials token can be
   * had in that tenant (throws OAUTH_FAILED otherwise) and returns the org's credentials.
   */
  completeAdminConsent?(query: URLSearchParams, input: { redirectUri: string; logger: Logger; clock: Clock }): Promise<AdminConsentResult>;
  /** Google: validates the given credentials (a token for `adminEmail` can be had) and returns them normalised. */
  connectDirect?(input: DirectConnectInput, context: { logger: Logger; clock: Clock }): Promise<AdminConsentResult>;
  /** Resolves a selection against the directory (users, group members, shared mailboxes). */
  listMailboxes(grant: OrgGrant, selection: OrgSelection): Promise<DirectoryMailbox[]>;
  /** Obtains a token for one mailbox and proves it reachable with one cheap read. Never throws for a per-mailbox refusal. */
  openMailbox(grant: OrgGrant, mailbox: DirectoryMailbox): Promise<OpenMailboxResult>;
}
