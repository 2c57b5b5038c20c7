// One message whose metadata does not fit the ProviderMessage schema (broken or hostile mail:
// a header past its limit, an id no store could key on) must not stall its mailbox's sync, and
// must not vanish unnoticed either. Both adapters map every message they read through this.
import { z } from 'zod';
import type { ProviderId, ProviderMessage } from '../domain/schemas.js';
import type { ProviderSession } from '../ports/mail-provider.js';

/**
 * Runs `map`; when it throws, logs a warning naming the message by id and which fields failed
 * (never their values: they are the message's content) and returns null, so the caller skips it.
 */
export function mapMessageOrSkip(
  session: Pick<ProviderSession, 'connection' | 'logger'>,
  provider: ProviderId,
  providerMessageId: string | null | undefined,
  map: () => ProviderMessage,
): ProviderMessage | null {
  try {
    return map();
  } catch (error) {
    session.logger.warn(`${provider} message skipped: its metadata does not fit the schema`, {
      connectionId: session.connection.id,
      providerMessageId: providerMessageId?.slice(0, 256) ?? null,
      issues: error instanceof z.ZodError ? error.issues.map((issue) => issue.path.map(String).join('.')).join(',') : 'unknown',
    });
    return null;
  }
}
