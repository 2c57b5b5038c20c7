import { FREE_MAIL_DOMAINS } from '../src/matching/domains.js';
import { createMatcher } from '@threadlink/core/testing';
import { describe, expect, it } from 'vitest';
import { ACCOUNT, context, crm, mail, recording, summary } from './matching-fixtures.js';

describe('participant rules', () => {
  it('links the sender to the contact by exact address and the company by domain, with reasons', async () => {
    const matcher = createMatcher({ ownDomains: ['acme.com'] });
    const links = await matcher.match(mail({ subject: 'Site visit next week', from: 'Ana@BigCo.com' }), context(crm()));
    expect(summary(links)).toEqual({ 'contact:c-ana': 'participant.address', 'client:cl-bigco': 'participant.domain' });
    const contact = links.find((link) => link.record.id === 'c-ana')!;
    expect(contact).toMatchObject({
      reason: 'from ana@bigco.com',
      confidence: 0.9,
      manual: false,
      suppressed: false,
      record: { type: 'contact', id: 'c-ana', label: 'Ana Ruiz' },
    });
    expect(links.find((link) => link.record.id === 'cl-bigco')!.reason).toBe('domain bigco.com (from ana@bigco.com)');
    // The record a link carries is a strict RecordRef: the resolver's emails/domains stay out.
    expect(Object.keys(contact.record).sort()).toEqual(['id', 'label', 'type']);
  });

  it('finds participants in to, cc, bcc and reply-to, and never the mailbox owner', async () => {
    const { resolver, calls } = recording(crm());
    const matcher = createMatcher({});
    const message = mail({
      direction: 'outbound',
      from: ACCOUNT,
      to: ['colleague@acme.com'],
      cc: ['ana@bigco.com'],
      bcc: ['ME+Archive@acme.com'],
      replyTo: ['bob.builder@gmail.com'],
    });
    const links = await matcher.match(message, { ...context(resolver), accountEmail: 'Me@Acme.com' });
    expect(summary(links)).toEqual({ 'contact:c-ana': 'participant.address', 'client:cl-bigco': 'participant.domain', 'contact:c-bob': 'participant.address' });
    expect(links.find((link) => link.record.id === 'c-ana')!.reason).toBe('cc ana@bigco.com');
    expect(links.find((link) => link.record.id === 'c-bob')!.reason).toBe('reply-to bob.builder@gmail.com');
    const asked = calls.find((call) => call.method === 'contactsByEmail')!.keys;
    expect(asked).not.toContain(ACCOUNT);
    expect(asked).not.toContain('me+archive@acme.com');
  });

  it('looks plus-addressed senders up by their base address, and only when plus addressing is on', async () => {
    const message = mail({ from: 'ana+crm@bigco.com' });
    const on = await createMatcher({}).match(message, context(crm()));
    expect(on.find((link) => link.record.id === 'c-ana')?.reason).toBe('from ana+crm@bigco.com (as ana@bigco.com)');

    const off = await createMatcher({ plusAddressing: false }).match(message, context(crm()));
    expect(off.some((link) => link.record.id === 'c-ana')).toBe(false);
    // The domain still identifies the company either way.
    expect(summary(off)).toEqual({ 'client:cl-bigco': 'participant.domain' });
  });

  it('still links a contact the CRM stores with the plus tag itself', async () => {
    const resolver = crm([{ type: 'contact', id: 'c-tagged', emails: ['orders+eu@bigco.com'] }]);
    const links = await createMatcher({}).match(mail({ from: 'orders+eu@bigco.com' }), context(resolver));
    expect(links.find((link) => link.record.id === 'c-tagged')?.reason).toBe('from orders+eu@bigco.com');
  });

  it('never looks up free-mail domains, built-in (any country TLD) or host-added', async () => {
    const { resolver, calls } = recording(crm());
    const matcher = createMatcher({ freeMailDomains: ['bigpond.net.au', 'example-isp.*'] });
    const senders = [
      'bob.builder@gmail.com',
      'x@hotmail.co.uk',
      'y@yahoo.co.jp',
      'z@gmx.de',
      'p@proton.me',
      'q@us.yahoo.com',
      'r@bigpond.net.au',
      's@example-isp.fr',
      't@outlook.de',
    ];
    await matcher.matchMany(
      senders.map((from) => mail({ from })),
      { resolver, accountEmail: ACCOUNT, threadLinksByThread: new Map(), now: 0 },
    );
    const domainCalls = calls.filter((call) => call.method === 'companiesByDomain');
    expect(domainCalls).toEqual([]);
    // …but the people themselves are still looked up: Bob is a contact even on Gmail.
    expect(calls.find((call) => call.method === 'contactsByEmail')!.keys).toEqual(expect.arrayContaining(senders));
    expect(FREE_MAIL_DOMAINS).toEqual(expect.arrayContaining(['gmail.com', 'outlook.*', 'hotmail.*', 'yahoo.*', 'icloud.com', 'proton.me', 'gmx.*']));
  });

  it('does not mistake a company domain that merely starts like a free-mail brand for free mail', async () => {
    const resolver = crm([{ type: 'client', id: 'cl-outlook-media', domains: ['outlook-media.com', 'outlook.media-group.com'] }]);
    const links = await createMatcher({}).match(mail({ from: 'ceo@outlook-media.com', cc: ['cfo@outlook.media-group.com'] }), context(resolver));
    expect(summary(links)).toEqual({ 'client:cl-outlook-media': 'participant.domain' });
  });

  it("skips the tenant's own domains and the account's domain (and their subdomains) for company look-ups", async () => {
    const { resolver, calls } = recording(crm());
    const matcher = createMatcher({ ownDomains: ['acme-group.com'] });
    await matcher.match(mail({ from: 'ceo@acme-group.com', to: [ACCOUNT, 'ops@acme.com', 'it@eu.acme.com'], cc: ['ana@bigco.com'] }), context(resolver));
    expect(calls.filter((call) => call.method === 'companiesByDomain').map((call) => call.keys)).toEqual([['bigco.com']]);
  });

  it('links a sender on a subdomain to the company owning the parent domain', async () => {
    const links = await createMatcher({}).match(mail({ from: 'noreply@mail.eu.bigco.com' }), context(crm()));
    expect(links).toHaveLength(1);
    expect(links[0]).toMatchObject({ record: { id: 'cl-bigco' }, rule: 'participant.domain', reason: 'domain bigco.com (from noreply@mail.eu.bigco.com)' });
  });

  it('stops at registry second levels: bigco.co.uk is a company, co.uk is not', async () => {
    const { resolver, calls } = recording(crm([{ type: 'client', id: 'cl-uk', domains: ['bigco.co.uk'] }]));
    const links = await createMatcher({}).match(mail({ from: 'ana@sales.bigco.co.uk' }), context(resolver));
    expect(calls.find((call) => call.method === 'companiesByDomain')!.keys).toEqual(['sales.bigco.co.uk', 'bigco.co.uk']);
    expect(summary(links)).toEqual({ 'client:cl-uk': 'participant.domain' });
  });

  it('keeps one link per record when several participants hit it, naming the others in the reason', async () => {
    const resolver = crm([{ type: 'client', id: 'cl-ana', label: 'Ana (client)', emails: ['ana@bigco.com', 'ana.ruiz@bigco.com'], domains: ['bigco.com'] }]);
    const links = await createMatcher({}).match(mail({ from: 'ana@bigco.com', cc: ['ana.ruiz@bigco.com'] }), context(resolver));
    const client = links.filter((link) => link.record.id === 'cl-ana');
    expect(client).toHaveLength(1);
    expect(client[0]).toMatchObject({ rule: 'participant.address', confidence: 0.9 });
    expect(client[0]!.reason).toBe('from ana@bigco.com; also cc ana.ruiz@bigco.com; domain bigco.com (from ana@bigco.com)');
  });

  it('returns nothing (and asks nothing) for a message only between the owner and free-mail strangers', async () => {
    const { resolver, calls } = recording(crm());
    const links = await createMatcher({}).match(mail({ subject: 'Hello', from: 'stranger@gmail.com' }), context(resolver));
    expect(links).toEqual([]);
    expect(calls.map((call) => call.method)).toEqual(['contactsByEmail']);
  });
});
