// Connecting and offboarding one mailbox of an organization. A mailbox becomes an ordinary
// connection owned by the org (`orgId`, `mailboxId`, `mailboxKind`), with the app token the
// adapter obtained, and then goes live exactly as a user's connection does (connect/go-live.ts).
// Offboarding stops push and purges its rows; the provider grant is NOT revoked (it is org-wide).
import type { CoreContext } from '../context.js';
import type { Organization } from '../domain/organization.js';
import { Connection as ConnectionSchema, type Connection, type ProviderTokens } from '../domain/schemas.js';
import { carriedOver, goLive } from '../connect/go-live.js';
import { sealTokens } from '../engine/sessions.js';
import { toThreadlinkError } from '../errors.js';
import type { MailProvider } from '../ports/mail-provider.js';
import type { DirectoryMailbox } from '../ports/organization.js';
import { stableId } from '../security/hash.js';

export interface OpenedMailbox {
  tokens: ProviderTokens;
  scopes: string[];
  displayName: string | null;
}

/** Stores the mailbox's connection (a reconnect keeps its id, cursor, back-fill and health) and takes it live. */
export async function connectMailbox(
  context: CoreContext,
  provider: MailProvider,
  organization: Organization,
  mailbox: DirectoryMailbox,
  opened: OpenedMailbox,
  existing: Connection | undefined,
): Promise<Connection> {
  const now = context.clock.now();
  const email = mailbox.email.toLowerCase();
  const connection = ConnectionSchema.parse({
    id: existing?.id ?? stableId('con', organization.tenantId, organization.provider, email),
    tenantId: organization.tenantId,
    // The host user the mailbox was assigned to (tl.org.assignMailbox) keeps it across a re-open.
    userId: existing?.userId ?? organization.userId,
    provider: organization.provider,
    accountEmail: email,
    displayName: opened.displayName ?? mailbox.displayName,
    status: 'connecting',
    sealedTokens: sealTokens(context.sealer, opened.tokens),
    scopes: opened.scopes,
    ...carriedOver(existing),
    // The org's mailboxes are the team's mail: every user of the tenant sees them (changes stay with the admin).
    shared: true,
    orgId: organization.id,
    mailboxId: mailbox.id,
    mailboxKind: mailbox.kind,
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  });
  await context.store.saveConnection(connection);
  return goLive(context, provider, connection, Boolean(existing?.cursor));
}

/** Stops push (best effort) and deletes every row of the mailbox. No revoke: the grant belongs to the whole org. */
export async function offboardMailbox(context: CoreContext, provider: MailProvider, connection: Connection): Promise<void> {
  if (connection.status !== 'disconnected' && connection.subscription !== null) {
    try {
      await provider.unsubscribe(await context.sessionFor(connection));
    } catch (error) {
      context.logger.warn('unsubscribe failed while offboarding an org mailbox', { connectionId: connection.id, code: toThreadlinkError(error).code });
    }
  }
  await context.store.purgeConnection(connection.id);
  context.events.emit('connection.disconnected', { connectionId: connection.id, tenantId: connection.tenantId, purged: true });
}
