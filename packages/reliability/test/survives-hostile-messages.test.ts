// One hostile email must not stop a mailbox: headers longer than the schema allows (a 1,200-char
// Message-ID, References, In-Reply-To), a huge display name, a 10,000-char subject, hundreds of
// recipients, odd encodings. Sync must carry on for the mail that follows it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectedWorld, type ConnectedWorld } from '../src/fixture.js';

let fixture: ConnectedWorld;
beforeAll(async () => {
  fixture = await connectedWorld({ seed: 23 });
});
afterAll(() => fixture.world.close());

const longId = (tag: string): string => `<${tag}${'x'.repeat(1_200)}@evil.test>`;

describe('poison messages', () => {
  it('gmail: a message with over-long Message-ID, References and In-Reply-To is stored without them and sync goes on', async () => {
    const { world, gmail, gmailEmail } = fixture;
    const hostile = await world.google.deliver({
      from: `"${'N'.repeat(2_000)}" <attacker@evil.test>`,
      to: [gmailEmail, ...Array.from({ length: 300 }, (_, index) => `r${index}@spray.test`)].join(', '),
      subject: `${'S'.repeat(10_000)} PRJ-1001`,
      text: 'hostile',
      messageId: longId('mid'),
      inReplyTo: longId('irt'),
      references: [longId('ref'), '<fine@evil.test>'],
      headers: { 'X-Odd': '=?x-unknown-charset?B?AAAA?=' },
    });
    const after = await world.google.deliver({ from: 'buyer@bigco.test', to: gmailEmail, subject: 'The mail after the poison – PRJ-1002', text: 'normal' });
    await world.settle();
    const store = world.backend.primary;
    const normal = await store.getMessageByProviderId(gmail.id, after.id);
    expect(normal?.subject).toBe('The mail after the poison – PRJ-1002');
    const stored = await store.getMessageByProviderId(gmail.id, hostile.id);
    expect(stored).not.toBeNull();
    expect(stored!.internetMessageId === null || stored!.internetMessageId.length <= 998).toBe(true);
    expect(stored!.references.every((reference) => reference.length <= 998)).toBe(true);
    expect(stored!.references).toContain('<fine@evil.test>');
    expect(stored!.subject.length).toBeLessThanOrEqual(4096);
    const health = await world.any().tl.health(gmail.id, { tenantId: world.tenantId, as: 'admin' });
    expect(health.verdict).not.toBe('failing');
  });

  it('outlook: a message with a 10,000-char subject and hundreds of recipients is stored and sync goes on', async () => {
    const { world, outlook, outlookEmail } = fixture;
    await world.microsoft.deliver({
      from: 'attacker@evil.test',
      to: [outlookEmail, ...Array.from({ length: 300 }, (_, index) => `r${index}@spray.test`)],
      subject: `${'S'.repeat(10_000)} PRJ-1001`,
      text: 'hostile',
    });
    const after = await world.microsoft.deliver({ from: 'buyer@bigco.test', to: outlookEmail, subject: 'Outlook mail after the poison', text: 'normal' });
    await world.settle();
    const normal = await world.backend.primary.getMessageByProviderId(outlook.id, after.immutableId);
    expect(normal?.subject).toBe('Outlook mail after the poison');
  });
});
