// The privacy contract on the real bytes: content keys are refused at the store boundary, and
// a canary put in a body never reaches any stored row.
import { describe, expect, it } from 'vitest';
import { FORBIDDEN_CONTENT_KEYS, getMessage, type MessageMeta } from '@threadlink/core/store';
import { expectError, seed, type ConformanceContext } from '../context.js';
import { makeConnection, makeLink, makeMessage, makeRecord, uniqueId } from '../fixtures.js';
import { stringsIn } from '../raw.js';

export function privacyCases(t: ConformanceContext): void {
  describe('privacy', () => {
    it.each(FORBIDDEN_CONTENT_KEYS.map((key) => [key]))('refuses a message carrying `%s`, and stores no trace of it', async (key) => {
      const canary = `CANARY-${uniqueId('body')}`;
      const connection = makeConnection();
      await seed(t.store, connection);
      const message = makeMessage(connection);
      const client = makeRecord('client');
      const error = await expectError(
        t.store.applySync(connection.id, { upserts: [{ ...message, [key]: canary } as MessageMeta], deletes: [], links: [makeLink(message, client)] }),
        'CONTENT_FORBIDDEN',
      );
      expect(`${error.message} ${JSON.stringify(error)}`).not.toContain(canary);
      // Content hidden one level down (an attachment's bytes) is refused the same way.
      await expectError(
        t.store.applySync(connection.id, {
          upserts: [{ ...message, attachments: [{ name: 'a.txt', mimeType: 'text/plain', size: 5, [key]: canary }] } as MessageMeta],
          deletes: [],
          links: [],
        }),
        'CONTENT_FORBIDDEN',
      );
      await expectError(t.store.addLinks(connection.tenantId, [{ ...makeLink(message, client), [key]: canary }]), 'CONTENT_FORBIDDEN');

      // The same message as metadata syncs normally.
      await t.store.applySync(connection.id, { upserts: [message], deletes: [], links: [makeLink(message, client)] });
      expect(await getMessage(t.store, connection.tenantId, message.id)).not.toBeNull();
      const leaked = stringsIn(await t.raw.dump()).filter((text) => text.includes(canary));
      expect(leaked).toEqual([]);
    });

    it('keeps no stored row with a content-named key', async () => {
      const connection = makeConnection();
      const message = makeMessage(connection);
      await seed(t.store, connection, [message], [makeLink(message, makeRecord('client'))]);
      const dump = await t.raw.dump();
      const forbidden = new Set<string>(['body', 'snippet', 'bodyPreview', 'body_preview', 'html', 'uniqueBody', 'unique_body']);
      const offending: string[] = [];
      for (const [table, rows] of Object.entries(dump)) {
        for (const row of rows) {
          if (row && typeof row === 'object') for (const column of Object.keys(row)) if (forbidden.has(column)) offending.push(`${table}.${column}`);
        }
      }
      expect(offending).toEqual([]);
    });
  });
}
