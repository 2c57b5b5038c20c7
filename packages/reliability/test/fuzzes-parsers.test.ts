// Property-based fuzzing of every parser threadlink exposes to the outside: the Pub/Sub push
// envelope and Graph notification payloads through the real handler, and core's MIME header
// helpers (address lists with odd encodings, RFC 2047 words, Message-ID lists, subjects).
// Seeded, so a failure prints a replayable counterexample.
import { Participant, ProviderMessage } from '@threadlink/core';
import { decodeMimeWords, normalizeSubject, parseAddressList, parseMessageIdList } from '@threadlink/core/provider';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectedWorld, type ConnectedWorld } from '../src/fixture.js';

const runs = process.env.SOAK === '1' ? 5_000 : 300;
const settings = { numRuns: runs, seed: 20_260_101 };

/** Any text, astral planes and lone surrogates included. */
const anyText = fc.string({ unit: 'binary', maxLength: 300 });
const wellFormedText = fc.string({ unit: 'grapheme', maxLength: 80 });

const base64 = (text: string, encoding: BufferEncoding = 'utf8'): string => Buffer.from(text, encoding).toString('base64');
const qEncode = (text: string, encoding: BufferEncoding = 'utf8'): string =>
  [...Buffer.from(text, encoding)].map((byte) => (byte === 0x20 ? '_' : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`)).join('');

describe('MIME header helpers', () => {
  it('parseAddressList never throws, and everything it returns is a valid, lower-cased, unique participant', () => {
    fc.assert(
      fc.property(anyText, (input) => {
        const participants = parseAddressList(input);
        for (const participant of participants) {
          expect(Participant.safeParse(participant).success).toBe(true);
          expect(participant.address).toBe(participant.address.toLowerCase());
        }
        expect(new Set(participants.map((participant) => participant.address)).size).toBe(participants.length);
      }),
      settings,
    );
  });

  it('parseAddressList finds every address of a list, whatever the display names and their encoding', () => {
    const displayName = fc.string({ unit: fc.constantFrom(..."abcxyzÄÖÜäöüßéñ日本語 .-&'".split('')), maxLength: 30 });
    const entry = fc.record({
      address: fc.emailAddress(),
      name: displayName,
      style: fc.constantFrom('quoted', 'bare', 'b-word', 'q-word', 'comment', 'angle-only', 'plain'),
    });
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 8 }), fc.constantFrom(', ', ',', ' , ', ';'), (entries, separator) => {
        const rendered = entries.map(({ address, name, style }) => {
          switch (style) {
            case 'quoted':
              return `"${name}" <${address}>`;
            case 'bare':
              return /^[A-Za-z ]+$/.test(name) && name.trim() ? `${name} <${address}>` : `<${address}>`;
            case 'b-word':
              return `=?UTF-8?B?${base64(name)}?= <${address}>`;
            case 'q-word':
              return `=?utf-8?q?${qEncode(name)}?= <${address}>`;
            case 'comment':
              return `${address} (${name.replace(/[()]/g, '')})`;
            case 'angle-only':
              return `<${address}>`;
            default:
              return address;
          }
        });
        const parsed = parseAddressList(rendered.join(separator));
        const expected = [...new Set(entries.map((entry) => entry.address.toLowerCase()))];
        expect(parsed.map((participant) => participant.address)).toEqual(expected);
        for (const { address, name, style } of entries) {
          if ((style === 'b-word' || style === 'q-word') && name.trim() && name.trim().toLowerCase() !== address.toLowerCase()) {
            const found = parsed.find((participant) => participant.address === address.toLowerCase());
            if (entries.filter((other) => other.address.toLowerCase() === address.toLowerCase()).length === 1) expect(found?.name).toBe(name.trim());
          }
        }
      }),
      settings,
    );
  });

  it('decodeMimeWords never throws on any input', () => {
    fc.assert(
      fc.property(anyText, fc.constantFrom('', '=?', '?=', '=?UTF-8?B?', '=?x?Q?=ZZ?=', '=?utf-8?b?////?='), (text, spice) => {
        expect(typeof decodeMimeWords(`${spice}${text}${spice}`)).toBe('string');
      }),
      settings,
    );
  });

  it('decodeMimeWords round-trips RFC 2047 B and Q words in UTF-8 and ISO-8859-1, and joins adjacent words', () => {
    const latin1 = fc.string({ unit: fc.integer({ min: 0x20, max: 0xff }).map((code) => String.fromCharCode(code)), maxLength: 40 });
    fc.assert(
      fc.property(wellFormedText, wellFormedText, latin1, fc.constantFrom(' ', '\r\n ', '\t', '  '), (first, second, western, gap) => {
        expect(decodeMimeWords(`=?UTF-8?B?${base64(first)}?=`)).toBe(first);
        expect(decodeMimeWords(`=?utf-8?Q?${qEncode(first)}?=`)).toBe(first);
        expect(decodeMimeWords(`=?ISO-8859-1?Q?${qEncode(western, 'latin1')}?=`)).toBe(western);
        // RFC 2047 §6.2: whitespace between adjacent encoded words is not displayed.
        expect(decodeMimeWords(`=?UTF-8?B?${base64(first)}?=${gap}=?UTF-8?Q?${qEncode(second)}?=`)).toBe(first + second);
        expect(decodeMimeWords(`Re: =?UTF-8?B?${base64(second)}?= – PRJ-1042`)).toBe(`Re: ${second} – PRJ-1042`);
      }),
      settings,
    );
  });

  it('parseMessageIdList never throws, returns at most 200 bracketed ids without whitespace, and finds every id of a list', () => {
    const idPart = fc.string({ unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789.$-_+='.split('')), minLength: 1, maxLength: 20 });
    const messageId = fc.tuple(idPart, idPart).map(([left, right]) => `<${left}@${right}>`);
    fc.assert(
      fc.property(anyText, fc.array(messageId, { maxLength: 30 }), fc.constantFrom(' ', '\r\n\t', ',', ''), (noise, ids, separator) => {
        const fromNoise = parseMessageIdList(noise);
        expect(fromNoise.length).toBeLessThanOrEqual(200);
        for (const id of fromNoise) expect(id).toMatch(/^<\S+>$/);
        expect(parseMessageIdList(ids.join(separator))).toEqual([...new Set(ids)]);
      }),
      settings,
    );
  });

  it('normalizeSubject is idempotent and ignores any stack of reply/forward prefixes in any language', () => {
    const prefix = fc.constantFrom('Re: ', 'RE:', 'Fwd: ', 'FW: ', 'AW: ', 'WG: ', 'SV: ', 'Re[2]: ', 're :');
    fc.assert(
      fc.property(anyText, fc.array(prefix, { maxLength: 5 }), (subject, prefixes) => {
        const normalized = normalizeSubject(subject);
        expect(normalizeSubject(normalized)).toBe(normalized);
        expect(normalizeSubject(prefixes.join('') + normalized)).toBe(normalized);
      }),
      settings,
    );
  });
});

describe('webhook payloads through the real handler', () => {
  let fixture: ConnectedWorld;
  let token: string;
  beforeAll(async () => {
    fixture = await connectedWorld({ seed: 31 });
    token = await fixture.world.google.createJwt();
  });
  afterAll(() => fixture.world.close());

  const handle = (path: string, body: string, headers: Record<string, string>): Promise<Response> =>
    fixture.world.any().tl.handler(new Request(`${fixture.world.publicUrl}${path}`, { method: 'POST', headers, body }));

  /** After a burst of fuzzed requests nothing may have been accepted or run. */
  async function expectNothingHappened(before: { calls: number; accepted: number }): Promise<void> {
    await fixture.world.settle();
    expect(fixture.providerCalls()).toBe(before.calls);
    expect(fixture.eventCount('notification.received', (json) => !json.includes('"hints":0'))).toBe(before.accepted);
  }
  const snapshot = () => ({ calls: fixture.providerCalls(), accepted: fixture.eventCount('notification.received', (json) => !json.includes('"hints":0')) });

  it('Pub/Sub push: any body with a valid token is answered 2xx, 400 or (not JSON) 415, never 5xx, and enqueues nothing for strangers', async () => {
    const before = snapshot();
    const stranger = fc.emailAddress().filter((address) => address.toLowerCase() !== fixture.gmailEmail);
    const inner = fc.oneof(
      fc.jsonValue(),
      fc.record(
        { emailAddress: fc.oneof(stranger, anyText), historyId: fc.oneof(fc.nat(), fc.string(), fc.double(), fc.constant(null)) },
        { requiredKeys: [] },
      ),
      anyText,
    );
    const data = fc.oneof(
      inner.map((value) => Buffer.from(typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined')).toString('base64')),
      anyText,
      fc.base64String(),
    );
    const body = fc.oneof(
      anyText,
      fc.jsonValue().map((value) => JSON.stringify(value) ?? ''),
      fc
        .record(
          {
            message: fc.record(
              { data, messageId: fc.oneof(fc.string(), fc.nat().map(String)), attributes: fc.dictionary(fc.string(), fc.string()) },
              { requiredKeys: [] },
            ),
            subscription: fc.oneof(fc.string(), fc.jsonValue()),
          },
          { requiredKeys: [] },
        )
        .map((value) => JSON.stringify(value)),
    );
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom('application/json', 'text/plain', 'application/octet-stream'), async (text, type) => {
        const response = await handle('/webhooks/gmail', text, { authorization: `Bearer ${token}`, 'content-type': type });
        // Pub/Sub pushes are JSON: any other content type is refused before the body is parsed.
        if (type !== 'application/json') {
          expect([413, 415]).toContain(response.status);
          if (response.status === 415) expect((await response.json()).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
          return;
        }
        expect([200, 202, 204, 400, 413]).toContain(response.status);
        if (response.status === 400) expect((await response.json()).error.code).toBe('WEBHOOK_MALFORMED');
      }),
      settings,
    );
    await expectNothingHappened(before);
  });

  it('Graph notifications and lifecycle events: any payload is answered 202/400/401/413, never 5xx, and strangers enqueue nothing', async () => {
    const before = snapshot();
    const real = fixture.world.microsoft.subscriptions().find((subscription) => subscription.mailbox === fixture.outlookEmail)!;
    const notification = fc.record(
      {
        subscriptionId: fc.oneof(fc.uuid(), anyText, fc.constant(real.id)),
        clientState: fc.oneof(
          anyText.filter((text) => text !== real.clientState),
          fc.constant(null),
        ),
        changeType: fc.oneof(fc.constantFrom('created', 'updated', 'deleted'), anyText),
        resource: anyText,
        lifecycleEvent: fc.oneof(fc.constantFrom('missed', 'subscriptionRemoved', 'reauthorizationRequired'), anyText),
        resourceData: fc.oneof(fc.jsonValue(), fc.record({ '@odata.etag': anyText, id: anyText })),
        subscriptionExpirationDateTime: anyText,
        tenantId: fc.oneof(fc.uuid(), anyText),
      },
      { requiredKeys: [] },
    );
    const body = fc.oneof(
      fc.record({ value: fc.array(notification, { maxLength: 5 }) }).map((value) => JSON.stringify(value)),
      fc.jsonValue().map((value) => JSON.stringify(value) ?? ''),
      anyText,
    );
    await fc.assert(
      fc.asyncProperty(body, fc.constantFrom('', '/lifecycle'), async (text, route) => {
        const response = await handle(`/webhooks/outlook${route}`, text, { 'content-type': 'application/json' });
        expect([202, 400, 401, 413]).toContain(response.status);
      }),
      settings,
    );
    await expectNothingHappened(before);
  });

  it('ProviderMessage stays strict under fuzzing: no content key ever parses', () => {
    fc.assert(
      fc.property(fc.constantFrom('body', 'snippet', 'bodyPreview', 'html', 'text', 'content', 'raw', 'uniqueBody'), anyText, (key, value) => {
        const message = {
          providerMessageId: 'm1',
          providerThreadId: 't1',
          internetMessageId: null,
          inReplyTo: null,
          references: [],
          subject: '',
          from: null,
          to: [],
          cc: [],
          bcc: [],
          replyTo: [],
          sentAt: null,
          receivedAt: 0,
          direction: 'inbound',
          folder: 'inbox',
          labels: [],
          attachments: [],
          hasAttachments: false,
        };
        expect(ProviderMessage.safeParse(message).success).toBe(true);
        expect(ProviderMessage.safeParse({ ...message, [key]: value }).success).toBe(false);
      }),
      settings,
    );
  });
});
