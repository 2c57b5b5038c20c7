// Contact discovery through the real Gmail and Graph clients against the emulators: from stored
// metadata only, the people the mailboxes exchange mail with in both directions rank above
// newsletters and unanswered sends; known contacts and the tenant's own addresses and domains
// never appear; a domain resolves to its company; `contact.suggested` announces the address that
// crossed the threshold once; and rematch links the stored history once the CRM creates the contact.
import { isThreadlinkError } from '@threadlink/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectedWorld, type ConnectedWorld } from '../src/fixture.js';

let fixture: ConnectedWorld;

beforeAll(async () => {
  fixture = await connectedWorld({ seed: 5 });
  const { world, gmailEmail, outlookEmail } = fixture;
  let minute = 0;
  const date = () => new Date(world.clock.now() + (minute += 1) * 60_000);
  const gmailExchange = async (address: string, name: string | null, inbound: number, outbound: number) => {
    for (let index = 0; index < Math.max(inbound, outbound); index += 1) {
      const from = name ? `${name} <${address}>` : address;
      if (index < inbound) await world.google.deliver({ from, to: gmailEmail, subject: `Hello ${index}`, text: 'hi', date: date(), mailbox: gmailEmail });
      if (index < outbound)
        await world.google.deliver({ from: gmailEmail, to: from, subject: `Re: Hello ${index}`, text: 'hi', date: date(), mailbox: gmailEmail });
    }
  };
  await gmailExchange('dana@newclient.test', 'Dana Diaz', 3, 3);
  await gmailExchange('news@letters.test', 'Letters Weekly', 8, 0);
  await gmailExchange('erin@initech.test', 'Erin', 1, 1);
  await gmailExchange('prospect@cold.test', null, 0, 3);
  await gmailExchange('buyer@bigco.test', 'Known Buyer', 3, 3); // a client the CRM knows
  await gmailExchange(outlookEmail, 'Cleo Colleague', 2, 2); // another mailbox of the tenant
  await gmailExchange('bob@acme.test', 'Bob Colleague', 2, 2); // the tenant's own domain
  await world.microsoft.deliver({ from: 'frank@partner.test', to: outlookEmail, subject: 'Partnership', text: 'hi', date: date(), mailbox: outlookEmail });
  await world.microsoft.deliver({ from: outlookEmail, to: 'frank@partner.test', subject: 'RE: Partnership', text: 'hi', date: date(), mailbox: outlookEmail });
  await world.settle();
}, 120_000);

afterAll(async () => {
  await fixture?.world.close();
});

describe('tl.contacts.suggest', () => {
  it('ranks two-way correspondents above newsletters and unanswered sends, without known contacts or the tenant itself', async () => {
    const { tl } = fixture.world.any();
    const suggestions = await tl.contacts.suggest({ tenantId: fixture.world.tenantId, as: 'admin' });
    const addresses = suggestions.map((suggestion) => suggestion.address);
    expect(addresses[0]).toBe('dana@newclient.test');
    expect(new Set(addresses)).toEqual(new Set(['dana@newclient.test', 'erin@initech.test', 'frank@partner.test', 'news@letters.test', 'prospect@cold.test']));
    expect(addresses.indexOf('erin@initech.test')).toBeLessThan(addresses.indexOf('news@letters.test'));
    expect(addresses.indexOf('frank@partner.test')).toBeLessThan(addresses.indexOf('news@letters.test'));
    expect(addresses.at(-1)).toBe('prospect@cold.test');
    const dana = suggestions[0]!;
    expect(dana).toMatchObject({ name: 'Dana Diaz', domain: 'newclient.test', company: null, received: 3, sent: 3 });
    expect(dana.score).toBeGreaterThan(2.9);
    const news = suggestions.find((suggestion) => suggestion.address === 'news@letters.test')!;
    expect(news).toMatchObject({ received: 8, sent: 0, name: 'Letters Weekly' });
    expect(news.score).toBeLessThan(1);
    expect(suggestions.find((suggestion) => suggestion.address === 'erin@initech.test')?.company).toEqual({
      type: 'company',
      id: 'co-initech',
      label: 'Initech',
    });
    expect(suggestions.map((suggestion) => suggestion.score)).toEqual(
      [...suggestions.map((suggestion) => suggestion.score)].sort((left, right) => right - left),
    );
  });

  it('gives a user the people of their own mailboxes only, and checks its input', async () => {
    const { tl } = fixture.world.any();
    const tenantId = fixture.world.tenantId;
    const cleo = await tl.contacts.suggest({ tenantId, userId: 'user-cleo' });
    expect(cleo.map((suggestion) => suggestion.address)).toEqual(['frank@partner.test']);
    const ana = await tl.contacts.suggest({ tenantId, userId: 'user-ana' }, { limit: 2 });
    expect(ana.map((suggestion) => suggestion.address)).toEqual(['dana@newclient.test', 'erin@initech.test']);
    expect(await tl.contacts.suggest({ tenantId, userId: 'nobody' })).toEqual([]);
    expect(await tl.contacts.suggest({ tenantId: 'another-tenant', as: 'admin' })).toEqual([]);
    for (const options of [{ limit: 0 }, { limit: 101 }, { since: Number.NaN }]) {
      const error = await tl.contacts.suggest({ tenantId, as: 'admin' }, options).catch((caught: unknown) => caught);
      expect(isThreadlinkError(error) && error.code).toBe('INVALID_INPUT');
    }
    const missing = await tl.contacts.suggest({} as never).catch((caught: unknown) => caught);
    expect(isThreadlinkError(missing) && missing.code).toBe('SCOPE_REQUIRED');
  });

  it('announces the address that crossed the threshold once, metadata only', async () => {
    const suggested = fixture.world.events
      .filter((event) => event.name === 'contact.suggested')
      .map((event) => JSON.parse(event.json) as { suggestion: { address: string } });
    expect(suggested.map((event) => event.suggestion.address)).toEqual(['dana@newclient.test']);
    // More mail from Dana does not announce her again.
    await fixture.world.google.deliver({
      from: 'Dana Diaz <dana@newclient.test>',
      to: fixture.gmailEmail,
      subject: 'One more',
      text: 'hi',
      mailbox: fixture.gmailEmail,
    });
    await fixture.world.settle();
    expect(fixture.eventCount('contact.suggested')).toBe(1);
  });

  it('links the stored history once the CRM creates the suggested contact', async () => {
    const { tl } = fixture.world.any();
    const scope = { tenantId: fixture.world.tenantId, as: 'admin' } as const;
    const record = { type: 'contact', id: 'ct-dana', label: 'Dana Diaz', emails: ['dana@newclient.test'] };
    const { linked } = await tl.matching.rematch(record, scope);
    expect(linked).toBe(7);
    const timeline = await tl.timeline.forRecord({ type: 'contact', id: 'ct-dana' }, scope);
    expect(timeline.threads.flatMap((thread) => thread.messages)).toHaveLength(7);
  });
});
