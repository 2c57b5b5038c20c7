// draftContext through the real Gmail and Graph clients against the emulators: a six-message
// thread whose bodies carry what real mail carries — quoted history ("On … wrote:" with `>`
// lines, Outlook's "From: … Sent:" block, an <hr> separator, <blockquote>), signatures ("--",
// "Sent from my iPhone", a closing salutation) and HTML-only messages — comes back as only what
// each message added, oldest first, with direction and participants, within the caller's budget.
import { isThreadlinkError, type DraftContext } from '@threadlink/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectedWorld, type ConnectedWorld } from '../src/fixture.js';

const CLIENT = 'buyer@bigco.test';
const POINTS = [
  'Point one: could you quote the roof repair for the Elm Street site?',
  'Point two: yes, we can inspect on Tuesday morning and quote after.',
  'Point three: Tuesday works, the gate code is at the front desk.',
  'Point four: inspection done, the quote follows by Friday at the latest.',
  'Point five: thanks, please include the gutter work as an option.',
  'Point six: one more thing, can the work start before the holidays? Our tenants move in on the fifth of January and the scaffolding must be gone by then.',
] as const;

/** The body of message `n` (0-based): its own point, then what mail clients add around it. */
function bodyOf(n: number, ours: string): { text?: string; html?: string } {
  const previous = POINTS[n - 1] ?? '';
  switch (n) {
    case 0:
      return { text: `${POINTS[0]}\n\n--\nBob Buyer\nBigCo Ltd | +1 555 0100 | bigco.test` };
    case 1:
      return { text: `${POINTS[1]}\n\nSent from my iPhone\n\nOn Mon, 2 Nov 2026 at 09:00, Bob Buyer <${CLIENT}> wrote:\n> ${previous}\n>\n> --\n> Bob Buyer` };
    case 2:
      return {
        html: `<div dir="ltr"><div>${POINTS[2]}</div><div><br></div><div>-- <br>Bob Buyer<br>BigCo Ltd</div></div><br><div>On Tue, 3 Nov 2026 at 10:00, ${ours} wrote:<br><blockquote>${previous}<br>Sent from my iPhone</blockquote></div>`,
      };
    case 3:
      return {
        text: `${POINTS[3]}\r\n\r\nBest regards,\r\nAna\r\n\r\nFrom: Bob Buyer <${CLIENT}>\r\nSent: Wednesday, November 4, 2026 11:00 AM\r\nTo: ${ours}\r\nSubject: RE: Roof repair\r\n\r\n${previous}`,
      };
    case 4:
      return {
        html: `<html><body><div>${POINTS[4]}</div><div>Kind regards,<br>Bob</div><hr><b>From:</b> ${ours}<br><b>Sent:</b> Thursday<br>${previous}</body></html>`,
      };
    default:
      return { text: `${POINTS[5]}\n\n-- \nBob\n\nOn Fri, 6 Nov 2026 at 08:00, ${ours} wrote:\n> ${previous}\n> > ${POINTS[3]}` };
  }
}

const DIRECTIONS = ['inbound', 'outbound', 'inbound', 'outbound', 'inbound', 'inbound'];

let fixture: ConnectedWorld;
const newest: Record<'gmail' | 'outlook', string> = { gmail: '', outlook: '' };

beforeAll(async () => {
  fixture = await connectedWorld({ seed: 7 });
  const { world, gmail, outlook, gmailEmail, outlookEmail } = fixture;
  let gmailThread: { threadId: string; messageId: string } | undefined;
  let outlookPrevious: string | undefined;
  for (let n = 0; n < POINTS.length; n += 1) {
    const outbound = DIRECTIONS[n] === 'outbound';
    const date = new Date(world.clock.now() + n * 60_000);
    const subject = n === 0 ? 'Roof repair' : 'RE: Roof repair';
    const sentGmail = await world.google.deliver({
      from: outbound ? gmailEmail : CLIENT,
      to: outbound ? CLIENT : gmailEmail,
      subject,
      date,
      ...bodyOf(n, `Ana <${gmailEmail}>`),
      ...(gmailThread ? { threadId: gmailThread.threadId, inReplyTo: gmailThread.messageId } : {}),
    });
    gmailThread = { threadId: sentGmail.threadId, messageId: sentGmail.messageId };
    const sentOutlook = await world.microsoft.deliver({
      from: outbound ? outlookEmail : CLIENT,
      to: outbound ? CLIENT : outlookEmail,
      subject,
      date,
      ...bodyOf(n, `Cleo <${outlookEmail}>`),
      ...(outlookPrevious ? { inReplyTo: outlookPrevious } : {}),
    });
    outlookPrevious = sentOutlook.internetMessageId;
    if (n === POINTS.length - 1) {
      await world.settle();
      const store = world.backend.primary;
      newest.gmail = (await store.getMessageByProviderId(gmail.id, sentGmail.id))!.id;
      const outlookCopy = sentOutlook.copies.find((copy) => copy.mailbox === outlookEmail)!;
      newest.outlook = (await store.getMessageByProviderId(outlook.id, outlookCopy.immutableId))!.id;
    }
  }
  await world.settle();
}, 120_000);

afterAll(async () => {
  await fixture?.world.close();
});

const scope = () => ({ tenantId: fixture.world.tenantId, as: 'admin' }) as const;

describe.each(['gmail', 'outlook'] as const)('draftContext on %s', (provider) => {
  it('returns the whole thread oldest first as clean text: no quoted history, no signatures, with direction and participants', async () => {
    const draft: DraftContext = await fixture.world.any().tl.messages.draftContext(newest[provider], scope(), { budget: { maxCharacters: 8_000 } });
    expect(draft.messages.map((message) => message.text)).toEqual([...POINTS]);
    expect(draft.messages.map((message) => message.direction)).toEqual(DIRECTIONS);
    const ours = provider === 'gmail' ? fixture.gmailEmail : fixture.outlookEmail;
    expect(draft.messages.map((message) => message.from?.address)).toEqual(DIRECTIONS.map((direction) => (direction === 'outbound' ? ours : CLIENT)));
    expect(draft.messages.map((message) => message.to.map((participant) => participant.address))).toEqual(
      DIRECTIONS.map((direction) => [direction === 'outbound' ? CLIENT : ours]),
    );
    expect(draft.omitted).toBe(0);
    expect(draft.messages.some((message) => message.truncated)).toBe(false);
    // The transcript a prompt gets: every point once, none of the furniture around them.
    for (const point of POINTS) expect(draft.text.split(point).length - 1).toBe(1);
    expect(draft.text).not.toMatch(/wrote:|^>|Sent from my iPhone|BigCo Ltd|Best regards|Kind regards|^Sent: /m);
    expect(draft.text.length).toBeLessThanOrEqual(8_000);
    expect(draft.budget).toEqual({ maxCharacters: 8_000, usedCharacters: draft.text.length, approximateTokens: Math.ceil(draft.text.length / 4) });
    // Compatible with the earlier shape: the asked message, its thread and its own body.
    expect(draft.message.id).toBe(newest[provider]);
    expect(draft.thread).toHaveLength(6);
    expect(draft.body.text).toContain(POINTS[5]);
  });

  it('keeps the newest messages when the budget is short, and shortens the newest one rather than return nothing', async () => {
    const { tl } = fixture.world.any();
    const full = await tl.messages.draftContext(newest[provider], scope());
    const short = await tl.messages.draftContext(newest[provider], scope(), { budget: { maxTokens: 120 } });
    expect(short.text.length).toBeLessThanOrEqual(480);
    expect(short.budget.maxCharacters).toBe(480);
    expect(short.messages.length).toBeGreaterThan(0);
    expect(short.messages.length).toBeLessThan(6);
    expect(short.omitted).toBe(6 - short.messages.length);
    expect(short.messages).toEqual(full.messages.slice(6 - short.messages.length));

    const tiny = await tl.messages.draftContext(newest[provider], scope(), { budget: { maxCharacters: 200 } });
    expect(tiny.text.length).toBeLessThanOrEqual(200);
    expect(tiny.messages).toHaveLength(1);
    expect(tiny.messages[0]!.truncated).toBe(true);
    expect(POINTS[5].startsWith(tiny.messages[0]!.text.replace(/ \[…\]$/, ''))).toBe(true);
    expect(tiny.omitted).toBe(5);
  });
});

it('refuses a malformed budget with INVALID_INPUT before fetching anything', async () => {
  const { tl } = fixture.world.any();
  for (const budget of [{ maxCharacters: 10 }, { maxTokens: 1.5 }, { maxCharacters: 1000, maxTokens: 100 }, {}] as never[]) {
    const error = await tl.messages.draftContext(newest.gmail, scope(), { budget }).catch((caught: unknown) => caught);
    expect(isThreadlinkError(error) && error.code).toBe('INVALID_INPUT');
  }
});
