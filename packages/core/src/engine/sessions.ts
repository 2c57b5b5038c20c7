// Builds the per-call ProviderSession: tokens are unsealed for the call only, and refreshed
// tokens are re-sealed (with the current key, so rotation happens as connections are used).
import type { Connection, ProviderTokens } from '../domain/schemas.js';
import { ProviderTokens as ProviderTokensSchema } from '../domain/schemas.js';
import type { Logger } from '../logger.js';
import type { ProviderSession } from '../ports/mail-provider.js';
import type { MetadataStore } from '../ports/metadata-store.js';
import type { Sealer } from '../security/sealing.js';
import type { Clock } from '../util/clock.js';
import { createOrgCache, mailboxGrant, type OrgCache } from '../org/grants.js';

const TOKEN_PURPOSE = 'provider-tokens';

export interface SessionFactoryDeps {
  store: MetadataStore;
  sealer: Sealer;
  logger: Logger;
  clock: Clock;
  webhookUrl: (provider: string) => string;
  /** Organizations read for org mailbox connections (`session.grant`); one is made when absent. */
  orgCache?: OrgCache;
}

export function sealTokens(sealer: Sealer, tokens: ProviderTokens): string {
  return sealer.seal(JSON.stringify(ProviderTokensSchema.parse(tokens)), TOKEN_PURPOSE);
}

function openTokens(sealer: Sealer, sealed: string): ProviderTokens {
  return ProviderTokensSchema.parse(JSON.parse(sealer.open(sealed, TOKEN_PURPOSE)));
}

/**
 * A session over tokens that were never stored (a grant refused at connect, to be revoked): the
 * connection is the one that would have been saved, and refreshed tokens are kept in memory only.
 */
export function transientSession(
  connection: Connection,
  tokens: ProviderTokens,
  deps: Pick<SessionFactoryDeps, 'logger' | 'clock' | 'webhookUrl'>,
): ProviderSession {
  let current = ProviderTokensSchema.parse(tokens);
  return {
    connection,
    tokens: () => current,
    async updateTokens(next) {
      current = ProviderTokensSchema.parse(next);
    },
    logger: deps.logger,
    clock: deps.clock,
    webhookUrl: deps.webhookUrl(connection.provider),
  };
}

export function createSessionFactory(deps: SessionFactoryDeps) {
  const orgCache = deps.orgCache ?? createOrgCache(deps);
  return async function sessionFor(connection: Connection, signal?: AbortSignal): Promise<ProviderSession> {
    let tokens = openTokens(deps.sealer, connection.sealedTokens);
    if (deps.sealer.keyIdOf(connection.sealedTokens) !== deps.sealer.currentKeyId) {
      // Key rotation: re-seal with the current key the first time an old-key connection is used.
      connection.sealedTokens = sealTokens(deps.sealer, tokens);
      await deps.store.patchConnection(connection.id, { sealedTokens: connection.sealedTokens, updatedAt: deps.clock.now() });
    }
    const logger = deps.logger;
    const { orgId } = connection;
    // An org's mailbox acts with the org's grant; the organization comes from the cache (no store read per job).
    const grant = orgId === undefined ? undefined : await mailboxGrant({ ...connection, orgId }, { ...deps, cache: orgCache, ...(signal ? { signal } : {}) });
    return {
      connection,
      ...(grant ? { grant } : {}),
      tokens: () => tokens,
      async updateTokens(next) {
        tokens = ProviderTokensSchema.parse(next);
        connection.sealedTokens = sealTokens(deps.sealer, tokens);
        await deps.store.patchConnection(connection.id, { sealedTokens: connection.sealedTokens, updatedAt: deps.clock.now() });
      },
      logger,
      clock: deps.clock,
      webhookUrl: deps.webhookUrl(connection.provider),
      ...(signal ? { signal } : {}),
    };
  };
}
