import { createMatcher } from '@threadlink/core/testing';
import { describe, expect, it } from 'vitest';
import { context, crm, mail, recording, REFERENCE_PATTERN, summary } from './matching-fixtures.js';

describe('subject rule (opt-in)', () => {
  it('is off by default: projectsBySubject is never asked', async () => {
    const { resolver, count } = recording(crm());
    const links = await createMatcher({}).match(mail({ subject: 'Riverside commissioning – minutes', from: 'x@unknown.io' }), context(resolver));
    expect(links).toEqual([]);
    expect(count('projectsBySubject')).toBe(0);
  });

  it('links an open project by normalised subject as a weak link, asking with the reply prefixes removed', async () => {
    const { resolver, calls } = recording(crm());
    const matcher = createMatcher({ subjectMatching: true });
    const links = await matcher.match(mail({ subject: 'AW: WG: Riverside   Commissioning – minutes', from: 'x@unknown.io' }), context(resolver));
    expect(calls.find((call) => call.method === 'projectsBySubject')!.keys).toBe('riverside commissioning – minutes');
    expect(links).toEqual([
      expect.objectContaining({
        record: { type: 'project', id: 'p-1042', label: 'PRJ-1042' },
        rule: 'subject',
        confidence: 0.4,
        reason: 'subject matches open project PRJ-1042',
      }),
    ]);
  });

  it('gives way to a reference to the same project, and its confidence is host-tunable', async () => {
    const matcher = createMatcher({ subjectMatching: true, referencePatterns: [REFERENCE_PATTERN], confidence: { subject: 0.55, reference: 0.9 } });
    const links = await matcher.match(mail({ subject: 'PRJ-1042 Riverside commissioning', from: 'x@unknown.io' }), context(crm()));
    expect(links).toEqual([
      expect.objectContaining({ rule: 'reference', confidence: 0.9, reason: 'subject contains PRJ-1042; also subject matches open project PRJ-1042' }),
    ]);
    const weak = await matcher.match(mail({ subject: 'Riverside commissioning', from: 'x@unknown.io' }), context(crm()));
    expect(weak[0]?.confidence).toBe(0.55);
  });

  it('does not ask about empty or trivial subjects', async () => {
    const { resolver, count } = recording(crm());
    const matcher = createMatcher({ subjectMatching: true });
    for (const subject of ['', 'Re:', 'RE: FW: ok'])
      expect(summary(await matcher.match(mail({ subject, from: 'x@unknown.io' }), context(resolver)))).toEqual({});
    expect(count('projectsBySubject')).toBe(0);
  });
});
