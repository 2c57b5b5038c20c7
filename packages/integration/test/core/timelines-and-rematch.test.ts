import { createMemoryResolver, createThreadlink, generateSealingKey, type RecordResolver } from '@threadlink/core';
import { memoryStore } from '@threadlink/storage-memory';
import { internalsOf } from '@threadlink/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { connectedHarness } from './support/harness.js';
import { scriptedMailbox } from './support/scripted-provider.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

describe('timelines and rematch through the facade', () => {
  it('links stored history retroactively when the CRM gains a contact and a project', async () => {
    const contacts = new Map<string, { type: string; id: string; label: string; emails: string[] }>();
    const projects = new Map<string, { type: string; id: string; label: string; references: string[] }>();
    const resolver: RecordResolver = {
      async contactsByEmail(_tenant, addresses) {
        return addresses.flatMap((address) => (contacts.has(address) ? [contacts.get(address)!] : []));
      },
      async projectsByReference(_tenant, references) {
        return references.flatMap((reference) => (projects.has(reference) ? [projects.get(reference)!] : []));
      },
    };
    const mailbox = scriptedMailbox();
    mailbox.add({ subject: 'Quote for the new site – PRJ-5001', from: 'newlead@startup.io', threadId: 'th-1' });
    mailbox.add({ subject: 'RE: Quote for the new site', from: 'newlead@startup.io', threadId: 'th-1' });
    mailbox.add({ subject: 'Unrelated', from: 'other@else.io' });
    const { tl } = await connectedHarness({ resolver }, mailbox);
    stops.push(() => tl.stop());
    expect((await tl.timeline.forRecord({ type: 'contact', id: 'lead-1' }, { tenantId: 't1', as: 'admin' })).threads).toEqual([]);

    contacts.set('newlead@startup.io', { type: 'contact', id: 'lead-1', label: 'New Lead', emails: ['newlead@startup.io'] });
    const byContact = await tl.matching.rematch(contacts.get('newlead@startup.io')!, { tenantId: 't1', as: 'admin' });
    expect(byContact.linked).toBe(2);
    const contactTimeline = await tl.timeline.forRecord({ type: 'contact', id: 'lead-1' }, { tenantId: 't1', as: 'admin' });
    expect(contactTimeline.threads).toHaveLength(1);
    expect(contactTimeline.threads[0]!.messages.map((message) => message.subject)).toEqual(['Quote for the new site – PRJ-5001', 'RE: Quote for the new site']);

    projects.set('PRJ-5001', { type: 'project', id: 'p-5001', label: 'PRJ-5001', references: ['PRJ-5001'] });
    await tl.matching.rematch(projects.get('PRJ-5001')!, { tenantId: 't1', as: 'admin' });
    const project = await tl.timeline.forRecord({ type: 'project', id: 'p-5001' }, { tenantId: 't1', as: 'admin' });
    const rules = project.threads.flatMap((thread) => thread.messages.map((message) => message.links.find((link) => link.record.id === 'p-5001')!.rule));
    // The reply lost the reference but inherits the job from its thread.
    expect(rules.sort()).toEqual(['reference', 'thread']);
  });

  it('does not spread a subject link down a thread when rematch links the record elsewhere', async () => {
    const riverside = { type: 'project', id: 'p-riverside', label: 'Riverside' };
    const resolver: RecordResolver = {
      async contactsByEmail() {
        return [];
      },
      async projectsBySubject(_tenant, normalizedSubject) {
        return normalizedSubject === 'riverside commissioning' ? [riverside] : [];
      },
    };
    const mailbox = scriptedMailbox();
    mailbox.add({ subject: 'Riverside commissioning', from: 'site@unknown.io', threadId: 'th-subject' });
    mailbox.add({ subject: 'Photos from today', from: 'site@unknown.io', threadId: 'th-subject' });
    mailbox.add({ subject: 'Invoice PRJ-9001', from: 'billing@unknown.io', threadId: 'th-reference' });
    mailbox.add({ subject: 'RE: Invoice', from: 'billing@unknown.io', threadId: 'th-reference' });
    const { tl } = await connectedHarness({ resolver, matching: { referencePatterns: [/\bPRJ-\d{4,}\b/], subjectMatching: true } }, mailbox);
    stops.push(() => tl.stop());

    // The CRM learns the project's reference: rematch links that thread, and its reply inherits.
    await tl.matching.rematch({ ...riverside, references: ['PRJ-9001'] }, { tenantId: 't1', as: 'admin' });
    const timeline = await tl.timeline.forRecord({ type: 'project', id: 'p-riverside' }, { tenantId: 't1', as: 'admin', wholeThreads: true });
    const ruleBySubject = Object.fromEntries(
      timeline.threads.flatMap((thread) =>
        thread.messages.map((message) => [message.subject, message.links.find((link) => link.record.id === 'p-riverside')?.rule ?? null]),
      ),
    );
    // The subject hint stays on its own message: the reply in that thread gets nothing from it.
    expect(ruleBySubject).toEqual({
      'Riverside commissioning': 'subject',
      'Photos from today': null,
      'Invoice PRJ-9001': 'reference',
      'RE: Invoice': 'thread',
    });
  });

  it('keeps a manual unlink through rematch and re-sync', async () => {
    const { tl, mailbox, connection } = await connectedHarness();
    stops.push(() => tl.stop());
    mailbox.add({ subject: 'Change request – PRJ-1042' });
    await internalsOf(tl).engine.requestSync(connection.id, 'push');
    await tl.idle();
    const [thread] = (await tl.timeline.forRecord({ type: 'project', id: 'p-1042' }, { tenantId: 't1', as: 'admin' })).threads;
    const messageId = thread!.messages[0]!.id;
    await tl.matching.unlink(messageId, { type: 'project', id: 'p-1042' }, { tenantId: 't1', userId: 'u1' });
    await tl.matching.rematch({ type: 'project', id: 'p-1042', label: 'PRJ-1042', references: ['PRJ-1042'] }, { tenantId: 't1', as: 'admin' });
    await tl.connections.resync(connection.id, { tenantId: 't1', as: 'admin' });
    await tl.idle();
    expect((await tl.timeline.forRecord({ type: 'project', id: 'p-1042' }, { tenantId: 't1', as: 'admin' })).threads).toEqual([]);
    const explained = await tl.matching.explain(messageId, { tenantId: 't1', as: 'admin' });
    expect(explained.find((link) => link.record.id === 'p-1042')).toMatchObject({ manual: true, suppressed: true });
  });

  it('pages a client timeline stably while new mail arrives, newest activity first', async () => {
    const mailbox = scriptedMailbox();
    for (let index = 0; index < 30; index += 1) mailbox.add({ subject: `thread ${index}`, receivedAt: 1_700_000_000_000 + index * 1000 });
    const { tl } = await connectedHarness({}, mailbox);
    stops.push(() => tl.stop());
    const seen: string[] = [];
    let after: string | null = null;
    let page = 0;
    do {
      const result = await tl.timeline.forRecord({ type: 'client', id: 'c-bigco' }, { tenantId: 't1', as: 'admin', limit: 7, after });
      seen.push(...result.threads.map((thread) => thread.subject));
      if (page === 1) {
        mailbox.add({ subject: 'brand new', receivedAt: 1_800_000_000_000 });
        await tl.connections.sync((await tl.connections.list({ tenantId: 't1', as: 'admin' }))[0]!.id, { tenantId: 't1', as: 'admin' });
        await tl.idle();
      }
      after = result.next;
      page += 1;
    } while (after);
    expect(seen).toEqual(Array.from({ length: 30 }, (_, index) => `thread ${29 - index}`));
  });

  it('merges the same mail received by two connected colleagues into one thread entry', async () => {
    const store = memoryStore();
    const resolver = createMemoryResolver([{ type: 'client', id: 'c-bigco', label: 'BigCo', emails: ['client@bigco.com'] }]);
    const make = (account: string) => {
      const mailbox = scriptedMailbox(account);
      return mailbox;
    };
    const ana = make('ana@acme.com');
    const bob = make('bob@acme.com');
    ana.add({ subject: 'Hello team' });
    bob.add({ subject: 'Hello team' });
    const tl = createThreadlink({
      store,
      providers: [ana.provider],
      resolver,
      sealingKeys: [{ id: 'k', key: generateSealingKey() }],
      publicUrl: 'https://crm.test/tl',
      maintenanceIntervalMs: 0,
    });
    const tlBob = createThreadlink({
      store,
      providers: [bob.provider],
      resolver,
      sealingKeys: [{ id: 'k', key: generateSealingKey() }],
      publicUrl: 'https://crm.test/tl',
      maintenanceIntervalMs: 0,
    });
    stops.push(
      () => tl.stop(),
      () => tlBob.stop(),
    );
    await tl.start();
    await tlBob.start();
    const asAna = { tenantId: 't1', userId: 'ana' };
    const asBob = { tenantId: 't1', userId: 'bob' };
    await tl.connect.complete({ code: 'a', state: (await tl.connect.start({ provider: 'gmail', ...asAna })).state }, asAna);
    await tlBob.connect.complete({ code: 'b', state: (await tlBob.connect.start({ provider: 'gmail', ...asBob })).state }, asBob);
    await Promise.all([tl.idle(), tlBob.idle()]);
    const timeline = await tl.timeline.forRecord({ type: 'client', id: 'c-bigco' }, { tenantId: 't1', as: 'admin' });
    expect(timeline.threads).toHaveLength(1);
    expect(timeline.threads[0]!.messages).toHaveLength(1);
    // Visibility: Ana alone sees only her mailbox unless Bob shares his.
    expect((await tl.timeline.forRecord({ type: 'client', id: 'c-bigco' }, { tenantId: 't1', userId: 'ana' })).threads).toHaveLength(1);
    expect((await tl.timeline.forRecord({ type: 'client', id: 'c-bigco' }, { tenantId: 't2', as: 'admin' })).threads).toEqual([]);
  });
});
