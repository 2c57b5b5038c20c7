import type { RecordLink } from '@threadlink/core';
import { createMatcher } from '@threadlink/core/testing';
import { describe, expect, it } from 'vitest';
import { ACCOUNT, context, crm, mail, NOW, REFERENCE_PATTERN, summary } from './matching-fixtures.js';

const matcher = createMatcher({ referencePatterns: [REFERENCE_PATTERN], ownDomains: ['acme.com'] });

function link(messageId: string, record: RecordLink['record'], rule: RecordLink['rule'], extra: Partial<RecordLink> = {}): RecordLink {
  return { messageId, record, rule, reason: 'stored', confidence: 0.9, manual: false, suppressed: false, createdAt: NOW - 86_400_000, ...extra };
}

const project = { type: 'project', id: 'p-1042', label: 'PRJ-1042' };
const anaContact = { type: 'contact', id: 'c-ana', label: 'Ana Ruiz' };

describe('thread inheritance', () => {
  it('lands a reply whose subject lost the reference on the job of its thread', async () => {
    const reply = mail({ id: 'reply', threadId: 'thread-a', subject: 'Re: quick question', from: 'site@unknown-contractor.com' });
    const threadLinks = [link('root', project, 'reference'), link('root', anaContact, 'participant.address')];
    const links = await matcher.match(reply, context(crm(), threadLinks));
    // Only the project travels: participants are per message (this reply is from someone else).
    expect(links).toEqual([
      {
        messageId: 'reply',
        record: project,
        rule: 'thread',
        reason: 'thread already linked to PRJ-1042',
        confidence: 0.85,
        manual: false,
        suppressed: false,
        createdAt: NOW,
      },
    ]);
  });

  it('inherits signed-proposal, manual and earlier inherited links, but not subject guesses', async () => {
    const threadLinks = [
      link('m1', { type: 'proposal', id: 'q-2291' }, 'signed_proposal'),
      link('m2', { type: 'work_order', id: 'wo-7731' }, 'manual', { manual: true, confidence: 1 }),
      link('m3', { type: 'project', id: 'p-1043' }, 'thread'),
      link('m4', { type: 'project', id: 'p-9999' }, 'subject'),
      link('m4', { type: 'client', id: 'cl-bigco' }, 'participant.domain'),
    ];
    const links = await matcher.match(mail({ id: 'm5', subject: 'Re: next steps', from: 'x@unknown.io' }), context(crm(), threadLinks));
    expect(summary(links)).toEqual({ 'proposal:q-2291': 'thread', 'work_order:wo-7731': 'thread', 'project:p-1043': 'thread' });
  });

  it('never inherits a suppressed link, and a manual unlink anywhere in the thread blocks that record', async () => {
    const threadLinks = [
      link('root', project, 'reference'),
      link('second', project, 'manual', { manual: true, suppressed: true }),
      link('third', { type: 'project', id: 'p-1043' }, 'manual', { manual: true, suppressed: true }),
    ];
    const links = await matcher.match(mail({ id: 'fourth', subject: 'Re: Re: thanks', from: 'x@unknown.io' }), context(crm(), threadLinks));
    expect(links).toEqual([]);
  });

  it('still links a blocked record when the message itself names it', async () => {
    const threadLinks = [link('root', project, 'reference'), link('second', project, 'manual', { manual: true, suppressed: true })];
    const links = await matcher.match(mail({ id: 'fourth', subject: 'Re: PRJ-1042 final invoice', from: 'x@unknown.io' }), context(crm(), threadLinks));
    expect(summary(links)).toEqual({ 'project:p-1042': 'reference' });
  });

  it("respects the message's own manual decisions when the engine passes them", async () => {
    const threadLinks = [
      link('root', project, 'reference'),
      link('mine', anaContact, 'manual', { manual: true, suppressed: true }),
      link('mine', { type: 'proposal', id: 'q-2291' }, 'manual', { manual: true }),
    ];
    const links = await matcher.match(mail({ id: 'mine', subject: 'Re: Q-2291', from: 'ana@bigco.com' }), context(crm(), threadLinks));
    // No automatic link competes with the user's link to Q-2291, and Ana stays unlinked.
    expect(summary(links)).toEqual({ 'project:p-1042': 'thread', 'client:cl-bigco': 'participant.domain' });
  });

  it('does not inherit from its own stale links (no self-perpetuating thread links)', async () => {
    const links = await matcher.match(mail({ id: 'solo', subject: 'Re: hello', from: 'x@unknown.io' }), context(crm(), [link('solo', project, 'thread')]));
    expect(links).toEqual([]);
  });

  it('keeps the strongest rule when the reply also names the job, mentioning the thread', async () => {
    const links = await matcher.match(mail({ subject: 'Re: PRJ-1042 status', from: 'x@unknown.io' }), context(crm(), [link('root', project, 'reference')]));
    expect(links).toHaveLength(1);
    expect(links[0]).toMatchObject({ rule: 'reference', reason: 'subject contains PRJ-1042; also thread already linked to PRJ-1042' });
  });

  it('lets messages of one page inherit from each other (root and reply synced together)', async () => {
    const root = mail({ id: 'root', threadId: 'thread-b', subject: 'Change request – PRJ-1042 commissioning', from: 'ana@bigco.com' });
    const reply = mail({ id: 'reply', threadId: 'thread-b', subject: 'Re: Change request', from: ACCOUNT, to: ['ana@bigco.com'], direction: 'outbound' });
    const other = mail({ id: 'other', threadId: 'thread-c', subject: 'Lunch?', from: 'x@unknown.io' });
    const result = await matcher.matchMany([reply, root, other], { resolver: crm(), accountEmail: ACCOUNT, threadLinksByThread: new Map(), now: NOW });
    expect(summary(result.get('reply')!)).toEqual({
      'project:p-1042': 'thread',
      'contact:c-ana': 'participant.address',
      'client:cl-bigco': 'participant.domain',
    });
    expect(summary(result.get('root')!)).toEqual({
      'project:p-1042': 'reference',
      'contact:c-ana': 'participant.address',
      'client:cl-bigco': 'participant.domain',
    });
    expect(result.get('other')).toEqual([]);
  });

  it('replaces the stored automatic links of page messages instead of inheriting them', async () => {
    // "root" is re-synced after its subject was edited: its old PRJ-1042 link is about to be replaced.
    const root = mail({ id: 'root', threadId: 'thread-d', subject: 'Change request – PRJ-1043', from: 'x@unknown.io' });
    const reply = mail({ id: 'reply', threadId: 'thread-d', subject: 'Re: Change request', from: 'x@unknown.io' });
    const threadLinksByThread = new Map([['thread-d', [link('root', project, 'reference')]]]);
    const result = await matcher.matchMany([root, reply], { resolver: crm(), accountEmail: ACCOUNT, threadLinksByThread, now: NOW });
    expect(summary(result.get('reply')!)).toEqual({ 'project:p-1043': 'thread' });
  });

  it('offers rule 4 alone for retroactive rematch', () => {
    const links = matcher.inheritedLinks({ id: 'reply' }, [link('root', project, 'reference'), link('root', anaContact, 'participant.address')], NOW);
    expect(links).toEqual([
      {
        messageId: 'reply',
        record: project,
        rule: 'thread',
        reason: 'thread already linked to PRJ-1042',
        confidence: 0.85,
        manual: false,
        suppressed: false,
        createdAt: NOW,
      },
    ]);
  });
});
