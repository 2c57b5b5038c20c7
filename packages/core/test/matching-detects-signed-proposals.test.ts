import { createMatcher } from '@threadlink/core/testing';
import { describe, expect, it } from 'vitest';
import { context, crm, mail, REFERENCE_PATTERN, summary } from './matching-fixtures.js';

const matcher = createMatcher({ referencePatterns: [REFERENCE_PATTERN] });
const from = 'buyer@unknown-client.com';

async function linkFor(subject: string, attachments: string[] = [], id = 'q-2291') {
  const links = await matcher.match(mail({ subject, from, attachments }), context(crm()));
  return links.find((link) => link.record.id === id);
}

describe('signed-proposal rule', () => {
  it('links "Signed: Proposal Q-2291" as a signed proposal, outranking the plain reference', async () => {
    const link = await linkFor('Signed: Proposal Q-2291');
    expect(link).toMatchObject({ rule: 'signed_proposal', confidence: 0.98, reason: "subject says 'Signed' for Q-2291; also subject contains Q-2291" });
  });

  it('reads the signature from an attachment name', async () => {
    const link = await linkFor('Documents attached', ['PRJ-1042 proposal SIGNED.pdf'], 'p-1042');
    expect(link).toMatchObject({
      rule: 'signed_proposal',
      reason: "attachment 'PRJ-1042 proposal SIGNED.pdf' is a signed proposal; also attachment 'PRJ-1042 proposal SIGNED.pdf' contains PRJ-1042",
    });
    const underscored = await linkFor('Re: paperwork', ['PRJ-1042_signed.pdf'], 'p-1042');
    expect(underscored?.rule).toBe('signed_proposal');
  });

  it('combines a signed subject with the reference in the attachment, and the other way round', async () => {
    expect((await linkFor('Countersigned copy attached', ['Q-2291.pdf']))?.reason).toBe(
      "subject says 'Countersigned'; attachment 'Q-2291.pdf' names Q-2291; also attachment 'Q-2291.pdf' contains Q-2291",
    );
    expect((await linkFor('RE: Proposal Q-2291', ['scan_executed.pdf']))?.reason).toBe(
      "attachment 'scan_executed.pdf' is signed; subject names Q-2291; also subject contains Q-2291",
    );
  });

  it('understands the default keywords, including German ones', async () => {
    for (const subject of [
      'Q-2291 accepted',
      'Fully executed agreement Q-2291',
      'AW: Angebot Q-2291 unterschrieben',
      'Q-2291 gegengezeichnet zurück',
      'E-signed: Q-2291',
    ]) {
      expect((await linkFor(subject))?.rule, subject).toBe('signed_proposal');
    }
  });

  it('does not fire on words that merely contain a keyword or negate it', async () => {
    const subjects = [
      'Unsigned draft Q-2291',
      'Q-2291 redesigned layout',
      'Q-2291 designed by our team',
      'Resigned from project Q-2291',
      'Q-2291 not signed yet',
      'Q-2291 still to be countersigned',
      'Q-2291 un-signed copy',
      'Angebot Q-2291 noch nicht unterschrieben',
      'Awaiting signed Q-2291',
    ];
    for (const subject of subjects) expect((await linkFor(subject))?.rule, subject).toBe('reference');
    expect((await linkFor('Draft', ['Q-2291_unsigned.pdf']))?.rule).toBe('reference');
  });

  it('treats a calendar "Accepted:" reply as a meeting response, not an accepted proposal', async () => {
    expect((await linkFor('Accepted: Kickoff Q-2291 @ Tue 18 Mar 2025 10am - 11am (CET) (me@acme.com)'))?.rule).toBe('reference');
    expect((await linkFor('Zugesagt: Abstimmung Angebot Q-2291'))?.rule).toBe('reference');
    // …while a person writing "accepted" later in the subject still counts.
    expect((await linkFor('Accepted: Q-2291 proposal accepted by BigCo board'))?.rule).toBe('signed_proposal');
  });

  it('needs a reference: a signed attachment about nothing links nothing', async () => {
    const links = await matcher.match(mail({ subject: 'Signed', from, attachments: ['contract_signed.pdf'] }), context(crm()));
    expect(links).toEqual([]);
  });

  it('restricts signed links to proposal types and its own reference patterns when configured', async () => {
    const strict = createMatcher({
      referencePatterns: [REFERENCE_PATTERN],
      signedProposal: { referencePatterns: [/\bQ-?\d{4}\b/], recordTypes: ['proposal'], keywords: ['signed', 'signé'] },
    });
    const links = await strict.match(mail({ subject: 'Signé : Q-2291 et PRJ-1042 signed', from }), context(crm()));
    expect(summary(links)).toEqual({ 'proposal:q-2291': 'signed_proposal', 'project:p-1042': 'reference' });
    expect(links.find((link) => link.record.id === 'q-2291')!.reason).toMatch(/^subject says 'Signé' for Q-2291/);
  });

  it('can be switched off', async () => {
    const off = createMatcher({ referencePatterns: [REFERENCE_PATTERN], signedProposal: false });
    const links = await off.match(mail({ subject: 'Signed: Proposal Q-2291', from }), context(crm()));
    expect(summary(links)).toEqual({ 'proposal:q-2291': 'reference' });
  });

  it('finds signed-proposal references with its own patterns even when the general ones miss them', async () => {
    const separate = createMatcher({ referencePatterns: [/\bPRJ-\d{4}\b/], signedProposal: { referencePatterns: [/\bQ-\d{4}\b/] } });
    expect(separate.extractReferences({ subject: 'Signed Q-2291 for PRJ-1042', attachments: [] })).toEqual(['PRJ-1042', 'Q-2291']);
    const links = await separate.match(mail({ subject: 'Signed Q-2291 for PRJ-1042', from }), context(crm()));
    expect(summary(links)).toEqual({ 'proposal:q-2291': 'signed_proposal', 'project:p-1042': 'reference' });
    // As the engine stores it: the Q token is indexed for rematch but is no general reference.
    const draft = mail({ subject: 'Draft Q-2291 for PRJ-1042', from });
    const stored = { ...draft, referenceTokens: separate.extractReferences(draft) };
    expect(stored.referenceTokens).toEqual(['PRJ-1042', 'Q-2291']);
    expect(summary(await separate.match(stored, context(crm())))).toEqual({ 'project:p-1042': 'reference' });
  });
});
