// What one message offers the candidate rules, read once per message: its participants (addresses
// and company domains, the mailbox's own left out), the reference numbers in its subject and
// attachment names, the signed-proposal statements it makes, and its normalised subject.
import type { MessageMeta } from '../domain/schemas.js';
import { decodeMimeWords, domainOf, normalizeSubject } from '../util/headers.js';
import { parentDomains, type DomainClassifier } from './domains.js';
import { addressKey, participantEntries, type AddressEntry, type DomainEntry } from './participants.js';
import { quote } from './reasons.js';
import { referenceKey, type ReferenceExtractor } from './references.js';
import type { SignedDetector } from './signed-proposal.js';

const MAX_REFERENCE_TOKENS = 64;

type ReferenceSource = { kind: 'subject' } | { kind: 'attachment'; name: string } | { kind: 'indexed' };

interface ReferenceHit {
  token: string;
  key: string;
  source: ReferenceSource;
}

interface SignedHit {
  key: string;
  token: string;
  reason: string;
}

export interface Analysis {
  message: MessageMeta;
  addresses: AddressEntry[];
  domains: DomainEntry[];
  references: ReferenceHit[];
  signed: SignedHit[];
  normalizedSubject: string;
}

export interface AnalyserOptions {
  references: ReferenceExtractor;
  /** The signed-proposal rule's extractor (may be `references` itself); null when the rule is off. */
  signedReferences: ReferenceExtractor | null;
  signedDetector: SignedDetector | null;
  domains: DomainClassifier;
  plusAddressing: boolean;
  subjectMatching: boolean;
}

export interface Analyser {
  extractReferences(message: Pick<MessageMeta, 'subject' | 'attachments'>): string[];
  analyse(message: MessageMeta, accountEmail: string | null): Analysis;
}

function decoded(text: string): string {
  // Adapters decode RFC 2047 already; a stray encoded word (a forwarded header, a lazy client) is
  // decoded here too so "=?UTF-8?Q?PRJ=E2=80=931042?=" still yields PRJ-1042.
  return text.includes('=?') ? decodeMimeWords(text) : text;
}

export function createAnalyser(options: AnalyserOptions): Analyser {
  const { references, signedReferences, signedDetector, domains: baseDomains, plusAddressing, subjectMatching } = options;

  const domainsFor = (accountEmail: string | null): DomainClassifier => {
    if (!accountEmail) return baseDomains;
    const accountDomain = domainOf(accountEmail.trim().toLowerCase());
    return {
      isFreeMail: baseDomains.isFreeMail,
      isOwn: (domain) => baseDomains.isOwn(domain) || domain === accountDomain || parentDomains(domain).includes(accountDomain),
    };
  };

  const allReferences = (text: string): string[] => {
    const found = references.extract(text);
    if (signedReferences && signedReferences !== references) {
      const keys = new Set(found.map(referenceKey));
      for (const token of signedReferences.extract(text)) if (!keys.has(referenceKey(token))) found.push(token);
    }
    return found;
  };

  const extractReferences = (message: Pick<MessageMeta, 'subject' | 'attachments'>): string[] => {
    const tokens = new Map<string, string>();
    for (const text of [message.subject, ...message.attachments.map((attachment) => attachment.name)]) {
      for (const token of allReferences(decoded(text))) if (!tokens.has(referenceKey(token))) tokens.set(referenceKey(token), token);
    }
    return [...tokens.values()].slice(0, MAX_REFERENCE_TOKENS);
  };

  const signedHits = (subject: string, attachmentNames: readonly string[]): SignedHit[] => {
    if (!signedDetector || !signedReferences) return [];
    const hits: SignedHit[] = [];
    const seen = new Set<string>();
    const push = (token: string, reason: string): void => {
      const key = referenceKey(token);
      if (seen.has(key)) return;
      seen.add(key);
      hits.push({ key, token, reason });
    };
    const subjectKeyword = signedDetector.detectInSubject(subject);
    const subjectRefs = signedReferences.extract(subject);
    const attachments = attachmentNames.map((name) => ({ name, keyword: signedDetector.detect(name), refs: signedReferences.extract(name) }));
    for (const attachment of attachments) {
      if (attachment.keyword && attachment.refs.length > 0) {
        for (const token of attachment.refs) push(token, `attachment ${quote(attachment.name)} is a signed proposal`);
      }
    }
    if (subjectKeyword) {
      for (const token of subjectRefs) push(token, `subject says '${subjectKeyword}' for ${token}`);
      if (subjectRefs.length === 0) {
        for (const attachment of attachments) {
          for (const token of attachment.refs) push(token, `subject says '${subjectKeyword}'; attachment ${quote(attachment.name)} names ${token}`);
        }
      }
    }
    for (const attachment of attachments) {
      if (attachment.keyword && attachment.refs.length === 0) {
        for (const token of subjectRefs) push(token, `attachment ${quote(attachment.name)} is signed; subject names ${token}`);
      }
    }
    return hits;
  };

  const analyse = (message: MessageMeta, accountEmail: string | null): Analysis => {
    const accountKey = accountEmail ? addressKey(accountEmail, plusAddressing) : null;
    const participants = participantEntries(message, accountKey, plusAddressing, domainsFor(accountEmail));
    const subject = decoded(message.subject);
    const attachmentNames = message.attachments.map((attachment) => decoded(attachment.name));
    const hits: ReferenceHit[] = [];
    const seen = new Set<string>();
    const add = (token: string, source: ReferenceSource): void => {
      const key = referenceKey(token);
      if (!key || seen.has(key)) return;
      seen.add(key);
      hits.push({ token, key, source });
    };
    for (const token of references.extract(subject)) add(token, { kind: 'subject' });
    for (const name of attachmentNames) for (const token of references.extract(name)) add(token, { kind: 'attachment', name });
    // Tokens stored at sync time count when the subject no longer shows them in a form the
    // patterns find; tokens kept only for the signed-proposal patterns are not general references.
    for (const token of message.referenceTokens) if (references.canonical(token) !== null) add(token, { kind: 'indexed' });
    return {
      message,
      addresses: participants.addresses,
      domains: participants.domains,
      references: hits,
      signed: signedHits(subject, attachmentNames),
      normalizedSubject: subjectMatching ? normalizeSubject(subject) : '',
    };
  };

  return { extractReferences, analyse };
}
