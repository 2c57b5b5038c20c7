import type { ThreadlinkError } from '@threadlink/core';
import { describe, expect, it } from 'vitest';
import { startHarness } from './harness.js';
import { connect, providerFor, startGoogle } from './support.js';

const ANA = 'ana@acme.test';

describe('expired and revoked grants', () => {
  it('refreshes an access token Google stopped accepting and persists the new one', async () => {
    const google = await startGoogle();
    try {
      const provider = providerFor(google);
      const session = await connect(google, provider, ANA);
      const { cursor } = await provider.subscribe(session);
      const original = session.tokens();
      // The emulator's clock passes the one-hour lifetime; the client still believes its token is fresh.
      google.advanceClock(3_600_000);
      google.log.clear();
      const delivered = await google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'After an hour' });
      const result = await provider.pullChanges(session, cursor);

      expect(result.changes).toHaveLength(1);
      expect(result.changes[0]).toMatchObject({ type: 'upsert', message: { providerMessageId: delivered.id } });
      expect(google.log.entries.map((entry) => `${entry.operation} ${entry.status}`)).toEqual([
        'history.list 401',
        'oauth.token 200',
        'history.list 200',
        'messages.get 200',
      ]);
      expect(session.persisted).toHaveLength(1);
      expect(session.persisted[0]?.accessToken).not.toBe(original.accessToken);
      expect(session.persisted[0]?.refreshToken).toBe(original.refreshToken);
    } finally {
      await google.close();
    }
  });

  it('reports AUTH_REVOKED without retrying when the grant is gone', async () => {
    const google = await startGoogle();
    try {
      const provider = providerFor(google);
      const session = await connect(google, provider, ANA);
      const { cursor } = await provider.subscribe(session);
      google.revokeTokens(ANA);
      google.log.clear();
      const error = (await provider.pullChanges(session, cursor).catch((caught: unknown) => caught)) as ThreadlinkError;
      expect(error.code).toBe('AUTH_REVOKED');
      expect(error.retryable).toBe(false);
      // One call, one refresh attempt (invalid_grant), nothing more.
      expect(google.log.entries.map((entry) => `${entry.operation} ${entry.status}`)).toEqual(['history.list 401', 'oauth.token 400']);
    } finally {
      await google.close();
    }
  });

  it('moves a revoked connection to needs_reauth once, with no retry storm', async () => {
    const harness = await startHarness();
    try {
      const connection = await harness.connect(ANA);
      harness.google.revokeTokens(ANA);
      harness.google.log.clear();
      await harness.google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'Nobody will read this here' });
      await harness.settle();
      expect((await harness.store.getConnection(connection.id))?.status).toBe('needs_reauth');
      expect(harness.eventsNamed('connection.needs_reauth').map((event) => event.connection.id)).toEqual([connection.id]);
      expect(harness.google.log.count({ operation: 'oauth.token' })).toBe(1);
      expect(harness.google.log.count({ operation: 'history.list' })).toBe(1);

      // Later pushes for the mailbox are acknowledged and ignored: no calls to Google at all.
      harness.google.log.clear();
      await harness.google.deliver({ to: ANA, from: 'client@bigco.test', subject: 'Still revoked' });
      await harness.settle();
      await harness.tl.maintain();
      await harness.tl.idle();
      expect(harness.google.log.entries.filter((entry) => entry.operation !== 'oauth.certs')).toEqual([]);
    } finally {
      await harness.close();
    }
  });
});
