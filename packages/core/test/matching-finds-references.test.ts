import { ThreadlinkError } from '@threadlink/core';
import { decodeMimeWords } from '@threadlink/core/provider';
import { createMatcher } from '@threadlink/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { context, crm, mail, recording, REFERENCE_PATTERN, summary } from './matching-fixtures.js';

const matcher = createMatcher({ referencePatterns: [REFERENCE_PATTERN], ownDomains: ['acme.com'] });
const noAttachments = { attachments: [] };

describe('reference rule', () => {
  it('finds the job in a forwarded reply subject with an en dash', async () => {
    const links = await matcher.match(
      mail({ subject: 'RE: FW: Change request – PRJ-1042 commissioning', from: 'site@unknown-contractor.com' }),
      context(crm()),
    );
    expect(links).toEqual([
      {
        messageId: expect.any(String),
        record: { type: 'project', id: 'p-1042', label: 'PRJ-1042' },
        rule: 'reference',
        reason: 'subject contains PRJ-1042',
        confidence: 0.95,
        manual: false,
        suppressed: false,
        createdAt: expect.any(Number),
      },
    ]);
  });

  it('reads RFC 2047 subjects: decoded by the adapter, or still encoded', async () => {
    const encoded = '=?UTF-8?Q?AW:_WG:_Angebot_Q=E2=80=912291_=E2=80=93_Erweiterung_Halle_3?=';
    const decodedSubject = decodeMimeWords(encoded);
    expect(decodedSubject).toBe('AW: WG: Angebot Q‑2291 – Erweiterung Halle 3');
    for (const subject of [decodedSubject, encoded]) {
      const links = await matcher.match(mail({ subject, from: 'einkauf@mueller-stahlbau.de' }), context(crm()));
      expect(summary(links)).toEqual({ 'proposal:q-2291': 'reference', 'client:cl-mueller': 'participant.domain' });
      expect(links.find((link) => link.rule === 'reference')!.reason).toBe('subject contains Q-2291');
    }
  });

  it('normalises the ways people type a reference to the form the pattern accepts', () => {
    const spellings = ['PRJ-1042', 'PRJ 1042', 'prj-1042', 'Prj 1042', 'PRJ–1042', 'PRJ—1042', 'PRJ1042', 'PRJ_1042', 'PRJ\u00A01042', 'PRJ - 1042'];
    for (const spelling of spellings) {
      expect(matcher.extractReferences({ subject: `Update ${spelling} schedule`, ...noAttachments }), spelling).toEqual(['PRJ-1042']);
    }
  });

  it('keeps the host form when the pattern has no hyphen, and only uses leniency the pattern allows', () => {
    const compact = createMatcher({ referencePatterns: [/\bPRJ\d{4}\b/] });
    expect(compact.extractReferences({ subject: 'prj-1042 and PRJ 1043 and PRJ1044', ...noAttachments }).sort()).toEqual(['PRJ1042', 'PRJ1043', 'PRJ1044']);
    // A pattern demanding lower case and an underscore keeps exactly that spelling.
    const exotic = createMatcher({ referencePatterns: [/\bjob_[a-z]{2}\d{2}\b/] });
    expect(exotic.extractReferences({ subject: 'Re: job_ab12 drawings', ...noAttachments })).toEqual(['job_ab12']);
  });

  it('finds several references in one subject and links each record', async () => {
    const { resolver, calls } = recording(crm());
    const subject = 'RE: PRJ-1042 / PRJ-1043 handover, WO 7731 and quote Q2291';
    const links = await matcher.match(mail({ subject, from: 'pm@unknown-contractor.com' }), context(resolver));
    expect(summary(links)).toEqual({
      'project:p-1042': 'reference',
      'project:p-1043': 'reference',
      'work_order:wo-7731': 'reference',
      'proposal:q-2291': 'reference',
    });
    expect(calls.find((call) => call.method === 'projectsByReference')!.keys).toEqual(['PRJ-1042', 'PRJ-1043', 'WO-7731', 'Q-2291']);
  });

  it('finds references in attachment names, underscores included, and names the attachment', async () => {
    const links = await matcher.match(
      mail({ subject: 'Documents as discussed', from: 'pm@unknown-contractor.com', attachments: ['WO_7731_checklist.xlsx', 'site-photos.zip'] }),
      context(crm()),
    );
    expect(links).toHaveLength(1);
    expect(links[0]).toMatchObject({ record: { id: 'wo-7731' }, rule: 'reference', reason: "attachment 'WO_7731_checklist.xlsx' contains WO-7731" });
  });

  it('stores subject and attachment tokens for index rematch, deduplicated', () => {
    expect(
      matcher.extractReferences({
        subject: 'RE: FW: Change request – PRJ-1042 commissioning',
        attachments: [
          { name: 'PRJ-1042_signed.pdf', mimeType: 'application/pdf', size: 1 },
          { name: 'Q-2291 rev B.pdf', mimeType: null, size: null },
        ],
      }),
    ).toEqual(['PRJ-1042', 'Q-2291']);
  });

  it('ignores numbers that only look like references', () => {
    const subjects = ['Invoice 2024-03 for March', 'Call at 10:42, room 1042', 'SPRJ-1042 is not ours', 'PRJ-10 is too short', 'FAQ 2291 updated'];
    for (const subject of subjects) expect(matcher.extractReferences({ subject, ...noAttachments }), subject).toEqual([]);
  });

  it('recognises a hyphen-optional reference under any separator (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('PRJ', 'prj', 'Prj', 'WO', 'wo', 'Q', 'q'),
        fc.constantFrom('-', ' ', '–', '—', '_', '', '\u00A0', '‑'),
        fc.integer({ min: 100, max: 99_999_999 }),
        fc.constantFrom('', 'Re: ', 'AW: WG: ', 'FW: Fwd: '),
        (prefix, separator, number, reply) => {
          const subject = `${reply}Status ${prefix}${separator}${number} update`;
          expect(matcher.extractReferences({ subject, ...noAttachments })).toEqual([`${prefix.toUpperCase()}-${number}`]);
        },
      ),
    );
  });

  it('links a project the CRM spells differently (references compared without punctuation or case)', async () => {
    const resolver = crm([{ type: 'project', id: 'p-legacy', references: ['prj 2001'] }]);
    const links = await matcher.match(mail({ subject: 'PRJ-2001 kickoff', from: 'x@unknown.io' }), context(resolver));
    expect(summary(links)).toEqual({ 'project:p-legacy': 'reference' });
  });

  it('accepts a project record whose label is the reference when the resolver omits `references`', async () => {
    const resolver = {
      contactsByEmail: async () => [],
      projectsByReference: async (_tenantId: string, references: string[]) =>
        references.filter((reference) => reference === 'PRJ-1042').map((reference) => ({ type: 'project', id: 'p-1042', label: reference })),
    };
    const links = await matcher.match(mail({ subject: 'PRJ-1042 and PRJ-1043', from: 'x@unknown.io' }), context(resolver));
    expect(summary(links)).toEqual({ 'project:p-1042': 'reference' });
  });

  it('rejects reference patterns that are not regular expressions', () => {
    expect(() => createMatcher({ referencePatterns: ['PRJ-\\d+' as unknown as RegExp] })).toThrowError(ThreadlinkError);
    try {
      createMatcher({ referencePatterns: ['PRJ-\\d+' as unknown as RegExp] });
    } catch (error) {
      expect(error).toMatchObject({ code: 'CONFIG_INVALID', retryable: false });
    }
  });

  it('does not look anything up by reference when the host configured no patterns', async () => {
    const { resolver, calls } = recording(crm());
    const links = await createMatcher({}).match(mail({ subject: 'PRJ-1042', from: 'x@unknown.io' }), context(resolver));
    expect(links).toEqual([]);
    expect(calls.some((call) => call.method === 'projectsByReference')).toBe(false);
  });
});
