// "Signed proposal" detection on a subject or an attachment name: a keyword saying the document
// was signed, as a whole word, and not negated. Only metadata is read: the body is never needed.
import { ThreadlinkError } from '../errors.js';

/**
 * English plus the German forms seen in DACH B2B mail ("Angebot … unterschrieben"). Hosts add
 * their own (signé, firmado, "DocuSign completed") through `signedProposal.keywords`.
 */
export const DEFAULT_SIGNED_KEYWORDS: readonly string[] = [
  'signed',
  'countersigned',
  'counter-signed',
  'e-signed',
  'accepted',
  'executed',
  'fully executed',
  'unterschrieben',
  'unterzeichnet',
  'gegengezeichnet',
];

// Words that turn "signed" into its opposite or a future tense: "not signed", "to be signed",
// "awaiting countersigned copy", "un-signed", "non-executed". Read on the text just before the keyword.
const NEGATION_BEFORE = /(?:(?:^|[^\p{L}\p{N}])(?:not|never|yet|be|awaiting|pending|unable|without|nicht|noch|un|non)[\s\-\u2010\u2011]*)$/iu;

// Meeting responses put the verb first: Outlook "Accepted: Kickoff PRJ-1042", Gmail "Accepted: Kickoff
// PRJ-1042 @ Tue 5 Mar …", localised ("Zugesagt:", "Akzeptiert:"). That "Accepted" is about a calendar
// invitation, not a proposal, and a false "signed" can flip a deal to won in the CRM, so the prefix is
// dropped before looking for keywords (a human "Accepted: Proposal Q-2291" still links by reference).
const CALENDAR_RESPONSE_PREFIX =
  /^\s*(?:(?:re|aw|fw|fwd|wg|sv|tr)\s*:\s*)*(?:tentatively accepted|accepted|tentative|declined|zugesagt|akzeptiert|mit vorbehalt angenommen|angenommen|abgelehnt|accepté|refusé)\s*:/iu;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface SignedDetector {
  /** The keyword as written when an attachment name says signed, else null. */
  detect(text: string): string | null;
  /** The same for a subject, ignoring a calendar response's leading "Accepted:". */
  detectInSubject(subject: string): string | null;
}

export function createSignedDetector(keywords: readonly string[]): SignedDetector {
  const cleaned = keywords.map((keyword) => keyword.trim()).filter(Boolean);
  if (keywords.some((keyword) => typeof keyword !== 'string')) {
    throw new ThreadlinkError('CONFIG_INVALID', 'matching.signedProposal.keywords must be strings');
  }
  if (cleaned.length === 0) return { detect: () => null, detectInSubject: () => null };
  // Longest first so "countersigned" is reported rather than a shorter alternative. The keyword
  // must stand alone: not inside "unsigned", "designed" or "resigned" (Unicode letters and
  // digits count as word characters; "_" and "-" separate, as in "PRJ-1042_signed.pdf").
  const alternatives = [...cleaned].sort((left, right) => right.length - left.length).map((keyword) => escapeRegExp(keyword).replace(/\s+/g, '\\s+'));
  const keywordPattern = new RegExp(`(?<![\\p{L}\\p{N}])(?:${alternatives.join('|')})(?![\\p{L}\\p{N}])`, 'giu');
  const detect = (text: string): string | null => {
    if (!text) return null;
    for (const match of text.matchAll(keywordPattern)) {
      const before = text.slice(Math.max(0, match.index - 24), match.index);
      if (!NEGATION_BEFORE.test(before)) return match[0];
    }
    return null;
  };
  return { detect, detectInSubject: (subject) => detect(subject.replace(CALENDAR_RESPONSE_PREFIX, ' ')) };
}
