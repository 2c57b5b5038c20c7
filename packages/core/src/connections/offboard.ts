// Offboarding a mailbox: stop push and revoke the grant (best effort: a dead grant must not block
// the purge), then delete every stored row or keep the metadata marked disconnected; and the
// export a user is owed before that (data portability).
import { z } from 'zod';
import type { DisconnectOptions, DisconnectResult, Scope } from '../api.js';
import type { CoreContext } from '../context.js';
import { sealTokens } from '../engine/sessions.js';
import { toThreadlinkError } from '../errors.js';
import type { ExportRecord, PurgeReport } from '../ports/metadata-store.js';

// The scope's own keys are checked by checkScope; anything else is a typo worth refusing.
const DisconnectInput = z.strictObject({ purge: z.boolean().optional(), tenantId: z.string(), userId: z.string().optional(), as: z.literal('admin').optional() });

export function createOffboarding(context: CoreContext) {
  const { store, sealer, clock, logger, events } = context;

  async function disconnect(connectionId: string, input: DisconnectOptions): Promise<DisconnectResult> {
    // The scope first: an unscoped call must not learn whether its options were valid.
    const connection = await context.connectionFor(connectionId, input, 'own');
    const parsed = DisconnectInput.parse(input);
    const provider = context.providerOf(connection.provider);
    let unsubscribed = false;
    let revoked = false;
    if (connection.status !== 'disconnected') {
      try {
        const session = await context.sessionFor(connection);
        try {
          await provider.unsubscribe(session);
          unsubscribed = true;
        } catch (error) {
          logger.warn('unsubscribe failed during disconnect', { connectionId, code: toThreadlinkError(error).code });
        }
        try {
          await provider.revoke(session);
          revoked = true;
        } catch (error) {
          logger.warn('revoke failed during disconnect', { connectionId, code: toThreadlinkError(error).code });
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
    return { purged, revoked, unsubscribed };
  }

  async function* exportConnection(connectionId: string, scope: Scope): AsyncGenerator<ExportRecord, void, undefined> {
    // Every row of the mailbox, at once: the owner's (or an admin's), even for a shared mailbox.
    await context.connectionFor(connectionId, scope, 'own');
    yield* store.exportConnection(connectionId);
  }

  return { disconnect, export: exportConnection };
}
