import { decodeMimeWords, normalizeSubject, parseAddressList, parseMessageIdList, replySubject } from '@threadlink/core/provider';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

describe('header parsing', () => {
  it('parses address lists with quotes, commas in names, comments and groups', () => {
    expect(parseAddressList('"Ruiz, Ana" <Ana@Acme.com>, bob@bigco.com (Bob B), Team: c@x.io, d@y.io;')).toEqual([
      { address: 'ana@acme.com', name: 'Ruiz, Ana' },
      { address: 'bob@bigco.com', name: 'Bob B' },
      { address: 'c@x.io' },
      { address: 'd@y.io' },
    ]);
    expect(parseAddressList('=?UTF-8?B?Sm9zw6kgR8OzbWV6?= <jose@ejemplo.es>')).toEqual([{ address: 'jose@ejemplo.es', name: 'José Gómez' }]);
    expect(parseAddressList('undisclosed-recipients:;')).toEqual([]);
    expect(parseAddressList('not an address, <>, @@')).toEqual([]);
  });

  it('decodes RFC 2047 encoded words (Q and B, adjacent words joined)', () => {
    expect(decodeMimeWords('=?UTF-8?Q?Change_request_=E2=80=93_PRJ-1042?=')).toBe('Change request – PRJ-1042');
    expect(decodeMimeWords('=?ISO-8859-1?Q?Gr=FC=DFe?= =?ISO-8859-1?Q?_aus_Berlin?=')).toBe('Grüße aus Berlin');
    expect(decodeMimeWords('plain subject')).toBe('plain subject');
  });

  it('normalises reply/forward prefixes in several languages', () => {
    expect(normalizeSubject('RE: FW: Change request – PRJ-1042 commissioning')).toBe('change request – prj-1042 commissioning');
    expect(normalizeSubject('AW: WG: Angebot')).toBe('angebot');
    expect(normalizeSubject('Re[2]: Fwd: hello')).toBe('hello');
    expect(replySubject('Re: hello')).toBe('Re: hello');
    expect(replySubject('hello')).toBe('Re: hello');
  });

  it('extracts Message-ID lists', () => {
    expect(parseMessageIdList('<a@x> <b@y>\r\n <c@z>')).toEqual(['<a@x>', '<b@y>', '<c@z>']);
    expect(parseMessageIdList(null)).toEqual([]);
  });

  it('never throws on arbitrary input (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (input) => {
        const parsed = parseAddressList(input);
        for (const participant of parsed) expect(participant.address).toMatch(/^[^\s@]+@[^\s@]+$/);
        decodeMimeWords(input);
        normalizeSubject(input);
        parseMessageIdList(input);
      }),
      { numRuns: 500 },
    );
  });
});
