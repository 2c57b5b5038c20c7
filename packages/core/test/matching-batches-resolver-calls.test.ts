import { isThreadlinkError, ThreadlinkError, type MessageMeta, type RecordResolver } from '@threadlink/core';
import { createMatcher } from '@threadlink/core/testing';
import { describe, expect, it } from 'vitest';
import { ACCOUNT, crm, mail, NOW, recording, REFERENCE_PATTERN } from './matching-fixtures.js';

const matcher = createMatcher({ referencePatterns: [REFERENCE_PATTERN], ownDomains: ['acme.com'], subjectMatching: true });

/** A realistic sync page: 200 messages over 40 threads, mixed senders, references and attachments. */
function page(tenantId = 't1'): MessageMeta[] {
  const senders = ['ana@bigco.com', 'ana+crm@bigco.com', 'bob.builder@gmail.com', 'einkauf@mueller-stahlbau.de', 'x@unknown.io', 'noreply@mail.eu.bigco.com'];
  const subjects = [
    'RE: FW: Change request – PRJ-1042 commissioning',
    'Signed: Proposal Q-2291',
    'WG: Angebot Q-2291',
    'Re: quick question',
    'WO 7731 checklist',
    'Riverside commissioning — minutes',
  ];
  return Array.from({ length: 200 }, (_, index) =>
    mail({
      id: `${tenantId}-m${index}`,
      tenantId,
      threadId: `${tenantId}-thread-${index % 40}`,
      subject: subjects[index % subjects.length]!,
      from: senders[index % senders.length]!,
      to: [ACCOUNT, `person${index}@client${index % 7}.example`],
      attachments: index % 9 === 0 ? ['PRJ-1043_signed.pdf'] : [],
    }),
  );
}

function thrower(method: keyof RecordResolver, error: unknown): RecordResolver {
  const resolver = crm();
  return { ...resolver, [method]: async () => Promise.reject(error) };
}

describe('batched resolver look-ups', () => {
  it('matches a page of 200 messages with one call per look-up kind (subjects: one per distinct subject)', async () => {
    const { resolver, count, calls } = recording(crm());
    const result = await matcher.matchMany(page(), { resolver, accountEmail: ACCOUNT, threadLinksByThread: new Map(), now: NOW });
    expect(result.size).toBe(200);
    expect(count('contactsByEmail')).toBe(1);
    expect(count('companiesByDomain')).toBe(1);
    expect(count('projectsByReference')).toBe(1);
    expect(count('projectsBySubject')).toBe(6);
    expect(new Set(calls.filter((call) => call.method === 'projectsBySubject').map((call) => call.keys)).size).toBe(6);
    // Each key is asked once per page, however many messages carry it.
    const emails = calls.find((call) => call.method === 'contactsByEmail')!.keys as string[];
    expect(new Set(emails).size).toBe(emails.length);
    expect(calls.find((call) => call.method === 'projectsByReference')!.keys).toEqual(['PRJ-1042', 'PRJ-1043', 'Q-2291', 'WO-7731']);
  });

  it('gives every message exactly the links a one-by-one match would give', async () => {
    const messages = page()
      .slice(0, 30)
      .map((message) => ({ ...message, threadId: `solo-${message.id}` }));
    const batch = await matcher.matchMany(messages, { resolver: crm(), accountEmail: ACCOUNT, threadLinksByThread: new Map(), now: NOW });
    for (const message of messages) {
      const single = await matcher.match(message, { resolver: crm(), accountEmail: ACCOUNT, threadLinks: [], now: NOW });
      expect(batch.get(message.id), message.subject).toEqual(single);
      expect(single.length).toBeGreaterThan(0);
    }
  });

  it('asks each tenant separately and never attributes one tenant’s records to another', async () => {
    const { resolver, calls } = recording(crm([{ type: 'project', id: 'p-t2-only', tenantId: 't2', references: ['PRJ-1043'] }]));
    const messages = [...page('t1').slice(0, 10), ...page('t2').slice(0, 10)];
    const result = await matcher.matchMany(messages, { resolver, accountEmail: ACCOUNT, threadLinksByThread: new Map(), now: NOW });
    expect(calls.filter((call) => call.method === 'projectsByReference').map((call) => call.tenantId)).toEqual(['t1', 't2']);
    const linkedTo = (tenantId: string) =>
      new Set([...result].filter(([id]) => id.startsWith(`${tenantId}-`)).flatMap(([, links]) => links.map((link) => link.record.id)));
    expect(linkedTo('t2').has('p-t2-only')).toBe(true);
    expect(linkedTo('t1').has('p-t2-only')).toBe(false);
  });

  it('refuses a page containing another tenant when the engine names the tenant', async () => {
    const messages = [...page('t1').slice(0, 1), ...page('t2').slice(0, 1)];
    await expect(
      matcher.matchMany(messages, { resolver: crm(), tenantId: 't1', accountEmail: ACCOUNT, threadLinksByThread: new Map(), now: NOW }),
    ).rejects.toMatchObject({
      code: 'INVALID_INPUT',
    });
  });

  it('makes no call at all for an empty page', async () => {
    const { resolver, calls } = recording(crm());
    expect((await matcher.matchMany([], { resolver, accountEmail: ACCOUNT, threadLinksByThread: new Map(), now: NOW })).size).toBe(0);
    expect(calls).toEqual([]);
  });

  it('surfaces a failing resolver as a retryable ThreadlinkError with the cause, for every look-up kind', async () => {
    for (const method of ['contactsByEmail', 'companiesByDomain', 'projectsByReference', 'projectsBySubject'] as const) {
      const cause = new Error('connection terminated unexpectedly');
      const error: unknown = await matcher
        .matchMany(page().slice(0, 12), { resolver: thrower(method, cause), accountEmail: ACCOUNT, threadLinksByThread: new Map(), now: NOW })
        .then(
          () => null,
          (rejection: unknown) => rejection,
        );
      expect(isThreadlinkError(error), method).toBe(true);
      expect(error).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', retryable: true, details: { component: 'record-resolver', method } });
      expect((error as ThreadlinkError).cause).toBe(cause);
    }
  });

  it('passes a ThreadlinkError thrown by the host resolver through unchanged', async () => {
    const hostError = new ThreadlinkError('RATE_LIMITED', 'CRM API quota', { retryAfterMs: 2_000 });
    const rejection = matcher.match(mail({ from: 'ana@bigco.com' }), {
      resolver: thrower('contactsByEmail', hostError),
      accountEmail: ACCOUNT,
      threadLinks: [],
      now: NOW,
    });
    await expect(rejection).rejects.toBe(hostError);
  });

  it('rejects a batch answer that does not say which address a record matches', async () => {
    const vague: RecordResolver = { contactsByEmail: async () => [{ type: 'contact', id: 'c-somebody' }] };
    const twoAddresses = mail({ from: 'ana@bigco.com', cc: ['bob.builder@gmail.com'] });
    await expect(matcher.match(twoAddresses, { resolver: vague, accountEmail: ACCOUNT, threadLinks: [], now: NOW })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      retryable: false,
      message: expect.stringContaining('without `emails`'),
    });
    // With a single address asked there is nothing to attribute: the answer is about that address.
    const links = await matcher.match(mail({ from: 'ana@bigco.com' }), { resolver: vague, accountEmail: ACCOUNT, threadLinks: [], now: NOW });
    expect(links.map((link) => [link.record.id, link.reason])).toEqual([['c-somebody', 'from ana@bigco.com']]);
  });

  it('rejects records without a usable type and id', async () => {
    const broken = { contactsByEmail: async () => [{ type: '', id: 'x', emails: ['ana@bigco.com'] }] } as RecordResolver;
    await expect(matcher.match(mail({ from: 'ana@bigco.com' }), { resolver: broken, accountEmail: ACCOUNT, threadLinks: [], now: NOW })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
    });
    const notArray = { contactsByEmail: async () => null } as unknown as RecordResolver;
    await expect(
      matcher.match(mail({ from: 'ana@bigco.com' }), { resolver: notArray, accountEmail: ACCOUNT, threadLinks: [], now: NOW }),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  });

  it('ignores records the resolver returns for addresses nobody asked about', async () => {
    const chatty: RecordResolver = { contactsByEmail: async () => [{ type: 'contact', id: 'c-unrelated', emails: ['someone@else.com'] }] };
    expect(
      await matcher.match(mail({ from: 'ana@bigco.com', cc: ['x@y.io'] }), { resolver: chatty, accountEmail: ACCOUNT, threadLinks: [], now: NOW }),
    ).toEqual([]);
  });

  it('works with a resolver implementing only the required address look-up', async () => {
    const minimal: RecordResolver = { contactsByEmail: crm().contactsByEmail };
    const links = await matcher.match(mail({ subject: 'PRJ-1042', from: 'ana@bigco.com' }), {
      resolver: minimal,
      accountEmail: ACCOUNT,
      threadLinks: [],
      now: NOW,
    });
    expect(links.map((link) => link.record.id)).toEqual(['c-ana']);
  });

  it('rejects invalid options up front', () => {
    for (const options of [{ confidence: { reference: 1.5 } }, { confidence: { invented: 0.5 } }, { ownDomains: 'acme.com' }]) {
      expect(() => createMatcher(options as never), JSON.stringify(options)).toThrowError(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    }
  });
});
