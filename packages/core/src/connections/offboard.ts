// Offboarding a mailbox: stop push and revoke the grant (best effort: a dead grant must not block
// the purge), then delete every stored row or keep the metadata marked disconnected; and the
// export a user is owed before that (data portability).
import { z } from 'zod';
import type { DisconnectOptions, DisconnectResult, Scope } from '../api.js';
import type { CoreContext } from '../context.js';
import type { Connection } from '../domain/schemas.js';
import { sealTokens } from '../engine/sessions.js';
import { toThreadlinkError } from '../errors.js';
import type { ExportRecord, PurgeReport } from '../ports/metadata-store.js';

// The scope's own keys are checked by checkScope; anything else is a typo worth refusing.
const DisconnectInput = z.strictObject({
  purge: z.boolean().optional(),
  tenantId: z.string(),
  userId: z.string().optional(),
  as: z.literal('admin').optional(),
});

export function createOffboarding(context: CoreContext) {
  const { store, sealer, clock, logger, events } = context;

  async function disconnect(connectionId: string, input: DisconnectOptions): Promise<DisconnectResult> {
    // The scope first: an unscoped call must not learn whether its options were valid.
    const connection = await context.connectionFor(connectionId, input, 'own');
    const parsed = DisconnectInput.parse(input);
    const provider = context.providerOf(connection.provider);
    let unsubscribed = false;
    let revoked = false;
    let shared = false;
    if (connection.status !== 'disconnected') {
      // The same address connected elsewhere (another tenant, another user of this one) shares
      // what the provider holds per user and OAuth client. Google keeps ONE grant per user and
      // client (a second consent adds tokens to it), and its revoke endpoint ends the grant: a
      // revoked access token takes its refresh token with it
      // (developers.google.com/identity/protocols/oauth2/web-server#tokenrevoke), as RFC 7009 §2
      // allows ("invalidate the actual token and, if applicable, other tokens based on the same
      // authorization grant") — so the other connection's tokens would die too. And Gmail's one
      // watch per mailbox serves both. While another connection remains, only this one's sealed
      // tokens go (below); the grant, and a per-mailbox push channel, stay for the other.
      // Microsoft has no per-token revoke for delegated grants: outlook's revoke deletes this
      // connection's own Graph subscriptions, which unsubscribe already did.
      shared = (await siblingsOf(connection)).length > 0;
      try {
        const session = await context.sessionFor(connection);
        if (!shared || (provider.pushChannel ?? 'connection') === 'connection') {
          try {
            await provider.unsubscribe(session);
            unsubscribed = true;
          } catch (error) {
            logger.warn('unsubscribe failed during disconnect', { connectionId, code: toThreadlinkError(error).code });
          }
        }
        if (!shared) {
          try {
            await provider.revoke(session);
            revoked = true;
          } catch (error) {
            logger.warn('revoke failed during disconnect', { connectionId, code: toThreadlinkError(error).code });
          }
        } else {
          logger.info('grant kept: the address is still connected elsewhere', { connectionId, provider: connection.provider });
        }
      } catch (error) {
        logger.warn('could not open tokens during disconnect', { connectionId, code: toThreadlinkError(error).code });
      }
    }
    let purged: PurgeReport | null = null;
    if (parsed.purge ?? true) purged = await store.purgeConnection(connectionId);
    else {
      await store.patchConnection(connectionId, {
        status: 'disconnected',
        sealedTokens: sealTokens(sealer, { accessToken: 'revoked' }),
        subscription: null,
        updatedAt: clock.now(),
      });
    }
    events.emit('connection.disconnected', { connectionId, tenantId: connection.tenantId, purged: purged !== null });
    return {
      purged,
      revoked,
      unsubscribed,
      ...(shared ? { revokeSkipped: 'shared-grant' as const } : {}),
      ...(shared && provider.pushChannel === 'mailbox' ? { unsubscribeSkipped: 'shared-watch' as const } : {}),
    };
  }

  /** The other connections of this address at this provider, in any tenant, not yet disconnected. */
  async function siblingsOf(connection: Connection): Promise<Connection[]> {
    const all = await store.listConnections({ provider: connection.provider, accountEmail: connection.accountEmail.toLowerCase() });
    return all.filter((other) => other.id !== connection.id && other.status !== 'disconnected');
  }

  async function* exportConnection(connectionId: string, scope: Scope): AsyncGenerator<ExportRecord, void, undefined> {
    // Every row of the mailbox, at once: the owner's (or an admin's), even for a shared mailbox.
    await context.connectionFor(connectionId, scope, 'own');
    yield* store.exportConnection(connectionId);
  }

  return { disconnect, export: exportConnection };
}
