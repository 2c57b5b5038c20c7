// The candidate rules, one function each: what a message's own metadata says (participants,
// references, signed proposals, the opt-in subject rule) given the CRM's answers, and what it
// inherits from its thread.
import type { MatchRule, RecordLink } from '../domain/schemas.js';
import { recordKey } from '../util/store-rules.js';
import type { Analysis } from './analysis.js';
import type { Resolution } from './batch-resolve.js';
import { isInheritable } from './inheritance.js';
import { describeRecord, quote } from './reasons.js';
import type { Candidate } from './scoring.js';

export interface CandidateRules {
  confidence: Readonly<Record<MatchRule, number>>;
  /** Record types a signed proposal may link to; null = any. */
  signedTypes: ReadonlySet<string> | null;
}

function participantCandidates(analysis: Analysis, resolution: Resolution, rules: CandidateRules): Candidate[] {
  const candidates: Candidate[] = [];
  for (const entry of analysis.addresses) {
    for (const lookup of entry.lookups) {
      for (const record of resolution.byAddress.get(lookup) ?? []) {
        const reason = lookup === entry.address ? `${entry.role} ${entry.address}` : `${entry.role} ${entry.address} (as ${lookup})`;
        candidates.push({ record, rule: 'participant.address', reason, confidence: rules.confidence['participant.address'] });
      }
    }
  }
  for (const entry of analysis.domains) {
    for (const record of resolution.byDomain.get(entry.domain) ?? []) {
      candidates.push({
        record,
        rule: 'participant.domain',
        reason: `domain ${entry.domain} (${entry.role} ${entry.address})`,
        confidence: rules.confidence['participant.domain'],
      });
    }
  }
  return candidates;
}

function referenceCandidates(analysis: Analysis, resolution: Resolution, rules: CandidateRules): Candidate[] {
  const candidates: Candidate[] = [];
  for (const hit of analysis.references) {
    const reason =
      hit.source.kind === 'subject'
        ? `subject contains ${hit.token}`
        : hit.source.kind === 'attachment'
          ? `attachment ${quote(hit.source.name)} contains ${hit.token}`
          : `reference ${hit.token}`;
    for (const record of resolution.byReference.get(hit.key) ?? [])
      candidates.push({ record, rule: 'reference', reason, confidence: rules.confidence.reference });
  }
  return candidates;
}

function signedProposalCandidates(analysis: Analysis, resolution: Resolution, rules: CandidateRules): Candidate[] {
  const candidates: Candidate[] = [];
  for (const hit of analysis.signed) {
    for (const record of resolution.byReference.get(hit.key) ?? []) {
      if (rules.signedTypes && !rules.signedTypes.has(record.type)) continue;
      candidates.push({ record, rule: 'signed_proposal', reason: hit.reason, confidence: rules.confidence.signed_proposal });
    }
  }
  return candidates;
}

function subjectCandidates(analysis: Analysis, resolution: Resolution, rules: CandidateRules): Candidate[] {
  if (!analysis.normalizedSubject) return [];
  return (resolution.bySubject.get(analysis.normalizedSubject) ?? []).map((record) => ({
    record,
    rule: 'subject' as const,
    reason: `subject matches open ${record.type} ${describeRecord(record)}`,
    confidence: rules.confidence.subject,
  }));
}

/** Every rule that reads the message itself, in the order their reasons are listed. */
export function directCandidates(analysis: Analysis, resolution: Resolution, rules: CandidateRules): Candidate[] {
  return [
    ...participantCandidates(analysis, resolution, rules),
    ...referenceCandidates(analysis, resolution, rules),
    ...signedProposalCandidates(analysis, resolution, rules),
    ...subjectCandidates(analysis, resolution, rules),
  ];
}

/** Rule 4: what a message inherits from the links of the other messages in its thread. */
export function inheritedCandidates(messageId: string, threadLinks: readonly RecordLink[], rules: CandidateRules): Candidate[] {
  // A manual unlink anywhere in the thread means a person said "not this record" about the
  // conversation; inheritance is only a guess, so it never overrides that.
  const suppressed = new Set(threadLinks.filter((link) => link.suppressed).map((link) => recordKey(link.record)));
  const candidates: Candidate[] = [];
  for (const link of threadLinks) {
    if (link.messageId === messageId || !isInheritable(link) || suppressed.has(recordKey(link.record))) continue;
    candidates.push({
      record: link.record,
      rule: 'thread',
      reason: `thread already linked to ${describeRecord(link.record)}`,
      confidence: rules.confidence.thread,
    });
  }
  return candidates;
}
