import type { MessageIndexQuery } from '@threadlink/core/store';
import { createMatcher } from '@threadlink/core/testing';
import { describe, expect, it } from 'vitest';
import { ACCOUNT, mail, NOW, REFERENCE_PATTERN, summary } from './matching-fixtures.js';

const matcher = createMatcher({ referencePatterns: [REFERENCE_PATTERN], ownDomains: ['acme.com'] });

/** What the store's index does with a MessageIndexQuery: any participant, domain or token hit. */
function hits(query: MessageIndexQuery, message: ReturnType<typeof mail>): boolean {
  const addresses = [message.from, ...message.to, ...message.cc, ...message.bcc, ...message.replyTo].flatMap((participant) =>
    participant ? [participant.address] : [],
  );
  return (
    addresses.some((address) => query.addresses?.includes(address)) ||
    addresses.some((address) => query.domains?.includes(address.slice(address.indexOf('@') + 1))) ||
    message.referenceTokens.some((token) => query.referenceTokens?.includes(token))
  );
}

describe('rematch of a record the CRM just gained', () => {
  it('builds the index query from the record: addresses, company domains (not free-mail or own) and every spelling of its references', () => {
    expect(matcher.rematchQuery({ type: 'contact', id: 'c-new', emails: ['Ana@BigCo.com', 'ana@bigco.com', 'not-an-address'] })).toEqual({
      addresses: ['ana@bigco.com'],
    });
    expect(matcher.rematchQuery({ type: 'client', id: 'cl-new', domains: ['BigCo.com', 'gmail.com', 'hotmail.de', 'acme.com'] })).toEqual({
      domains: ['bigco.com'],
    });
    expect(matcher.rematchQuery({ type: 'project', id: 'p-new', references: ['prj 2001'] })).toEqual({ referenceTokens: ['prj 2001', 'PRJ 2001', 'PRJ-2001'] });
    expect(matcher.rematchQuery({ type: 'project', id: 'p-nothing' })).toEqual({});
  });

  it('finds stored history whose tokens were extracted at sync time', () => {
    const stored = [
      mail({ subject: 'RE: FW: Change request – PRJ 2001 commissioning', from: 'x@unknown.io' }),
      mail({ subject: 'Unrelated PRJ-2002', from: 'x@unknown.io' }),
      mail({ subject: 'Docs', from: 'y@unknown.io', attachments: ['prj2001_drawings.pdf'] }),
    ].map((message) => ({ ...message, referenceTokens: matcher.extractReferences(message) }));
    const query = matcher.rematchQuery({ type: 'project', id: 'p-new', references: ['PRJ2001'] });
    expect(stored.filter((message) => hits(query, message)).map((message) => message.subject)).toEqual([
      'RE: FW: Change request – PRJ 2001 commissioning',
      'Docs',
    ]);
  });

  it('links a stored message to the new record with reasons, every rule it satisfies merged into one link', () => {
    const record = { type: 'client', id: 'cl-new', label: 'BigCo', emails: ['ana@bigco.com'], domains: ['bigco.com'], references: ['PRJ-2001'] };
    const message = mail({ id: 'old', subject: 'Signed: PRJ-2001', from: 'ana+crm@bigco.com', referenceTokens: ['PRJ-2001'] });
    expect(matcher.linksForRecord(message, record, NOW)).toEqual([
      {
        messageId: 'old',
        record: { type: 'client', id: 'cl-new', label: 'BigCo' },
        rule: 'signed_proposal',
        reason:
          "subject says 'Signed' for PRJ-2001; also subject contains PRJ-2001; from ana+crm@bigco.com (as ana@bigco.com); domain bigco.com (from ana+crm@bigco.com)",
        confidence: 0.98,
        manual: false,
        suppressed: false,
        createdAt: NOW,
      },
    ]);
  });

  it('links by a token stored at sync time even when the subject no longer shows it', () => {
    const message = mail({ subject: 'Re: photos', from: 'x@unknown.io', referenceTokens: ['PRJ-2001'] });
    expect(matcher.linksForRecord(message, { type: 'project', id: 'p-new', references: ['PRJ-2001'] }, NOW).map((link) => link.reason)).toEqual([
      'reference PRJ-2001',
    ]);
  });

  it('returns nothing for a message the record does not touch, and never links the mailbox owner', () => {
    const record = { type: 'contact', id: 'c-me', emails: [ACCOUNT, 'ana@bigco.com'] };
    expect(matcher.linksForRecord(mail({ from: 'x@unknown.io', to: ['y@unknown.io'] }), record, NOW)).toEqual([]);
    // Outbound: the sender is the mailbox owner even when the caller does not say so.
    const outbound = mail({ direction: 'outbound', from: ACCOUNT, to: ['x@unknown.io'] });
    expect(matcher.linksForRecord(outbound, record, NOW)).toEqual([]);
    // Inbound: only the caller knows which recipient is the mailbox (rematch knows the connection).
    const inbound = mail({ from: 'x@unknown.io', to: [ACCOUNT] });
    expect(matcher.linksForRecord(inbound, record, NOW, { accountEmail: ACCOUNT })).toEqual([]);
    expect(summary(matcher.linksForRecord(mail({ from: 'ana@bigco.com', to: [ACCOUNT] }), record, NOW, { accountEmail: ACCOUNT }))).toEqual({
      'contact:c-me': 'participant.address',
    });
  });

  it('does not link by a free-mail domain even if the CRM lists one', () => {
    const record = { type: 'client', id: 'cl-sloppy', domains: ['gmail.com'] };
    expect(matcher.linksForRecord(mail({ from: 'bob.builder@gmail.com' }), record, NOW)).toEqual([]);
  });
});
