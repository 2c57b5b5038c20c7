// From candidates to links: per record, the strongest candidate wins (ties go to the more specific
// rule), the others become "also …" in its reason, and a person's own decision on the message
// (manual link or unlink) overrides every automatic candidate for that record.
import type { MatchRule, RecordLink, RecordRef } from '../domain/schemas.js';
import { recordKey } from '../util/store-rules.js';
import { toRecordRef } from './resolve.js';

/** One rule's claim that a message belongs to a record. */
export interface Candidate {
  record: RecordRef;
  rule: MatchRule;
  reason: string;
  confidence: number;
}

/**
 * Defaults, strongest first. A signed proposal outranks a bare reference to the same record (it is
 * the more specific statement); a participant address is near-certain; inheritance is as good as
 * the link it copies minus the chance the thread drifted; a domain is a company-level guess; a
 * subject similarity is a hint.
 */
export const DEFAULT_CONFIDENCE: Readonly<Record<MatchRule, number>> = {
  manual: 1,
  signed_proposal: 0.98,
  reference: 0.95,
  'participant.address': 0.9,
  thread: 0.85,
  'participant.domain': 0.6,
  subject: 0.4,
};

// Tie-break when two rules give the same confidence: the more specific rule wins.
export const RULE_ORDER: readonly MatchRule[] = ['manual', 'signed_proposal', 'reference', 'participant.address', 'thread', 'participant.domain', 'subject'];

const MAX_REASON_LENGTH = 1024;

export function toLinks(messageId: string, candidates: readonly Candidate[], ownLinks: readonly RecordLink[], now: number): RecordLink[] {
  // The user's own decision on this message (manual link or unlink) always wins.
  const decided = new Set(ownLinks.filter((link) => link.manual || link.suppressed).map((link) => recordKey(link.record)));
  const groups = new Map<string, Candidate[]>();
  for (const candidate of candidates) {
    const key = recordKey(candidate.record);
    if (decided.has(key)) continue;
    const group = groups.get(key);
    if (group) group.push(candidate);
    else groups.set(key, [candidate]);
  }
  const links: RecordLink[] = [];
  for (const group of groups.values()) {
    group.sort((left, right) => right.confidence - left.confidence || RULE_ORDER.indexOf(left.rule) - RULE_ORDER.indexOf(right.rule));
    const best = group[0]!;
    const others = [...new Set(group.slice(1).map((candidate) => candidate.reason))].filter((reason) => reason !== best.reason);
    let reason = others.length > 0 ? `${best.reason}; also ${others.join('; ')}` : best.reason;
    if (reason.length > MAX_REASON_LENGTH) reason = `${reason.slice(0, MAX_REASON_LENGTH - 1)}…`;
    const label = group.find((candidate) => candidate.record.label !== undefined)?.record.label;
    const record = toRecordRef(label === undefined ? best.record : { ...best.record, label });
    links.push({ messageId, record, rule: best.rule, reason, confidence: best.confidence, manual: false, suppressed: false, createdAt: now });
  }
  return links.sort(
    (left, right) =>
      right.confidence - left.confidence || (recordKey(left.record) < recordKey(right.record) ? -1 : recordKey(left.record) > recordKey(right.record) ? 1 : 0),
  );
}
