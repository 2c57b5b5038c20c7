// The matcher: which CRM records a message belongs to, from metadata only (participants, subject,
// attachment names, the thread's existing links). Provider-agnostic; the engine calls `matchMany`
// per sync page and stores the links with the page, `linksForRecord` when the CRM gains a record.
import type { MatchRule, MessageMeta, RecordLink, RecordRef } from '../domain/schemas.js';
import { ThreadlinkError } from '../errors.js';
import type { MessageIndexQuery } from '../ports/metadata-store.js';
import type { RecordResolver, ResolvedRecord } from '../ports/record-resolver.js';
import { mapWithConcurrency } from '../util/concurrency.js';
import { decodeMimeWords, domainOf, normalizeSubject } from '../util/headers.js';
import { createDomainClassifier, parentDomains, type DomainClassifier } from './domains.js';
import { addressKey, participantEntries, type AddressEntry, type DomainEntry } from './participants.js';
import { createReferenceExtractor, referenceKey, type ReferenceExtractor } from './references.js';
import { attribute, callResolver, recordKey, resolverMethod, toRecordRef } from './resolve.js';
import { createSignedDetector, DEFAULT_SIGNED_KEYWORDS, type SignedDetector } from './signed-proposal.js';

export interface SignedProposalOptions {
  /** Words meaning "signed" (whole words, case-insensitive). Default: DEFAULT_SIGNED_KEYWORDS. */
  keywords?: string[];
  /** Patterns of proposal references (e.g. /\bQ-?\d{4,}\b/). Default: `referencePatterns`. */
  referencePatterns?: RegExp[];
  /** Only records of these types get `signed_proposal` links (e.g. ['proposal']). Default: any. */
  recordTypes?: string[];
}

export interface MatchingOptions {
  /** Host reference patterns, e.g. /\b(?:PRJ|WO|Q)-?\d{3,}\b/. Several matches per message are allowed. */
  referencePatterns?: RegExp[];
  /** The signed-proposal rule; `false` turns it off. On by default with the default keywords. */
  signedProposal?: SignedProposalOptions | false;
  /** Added to FREE_MAIL_DOMAINS; `name.*` means every country TLD of that provider. */
  freeMailDomains?: string[];
  /** The tenant's own domains (the connection account's domain is added per call). */
  ownDomains?: string[];
  /** ana+crm@x.com is looked up as itself and as ana@x.com. Default true. */
  plusAddressing?: boolean;
  /** Rule 5 (projectsBySubject), weaker and opt-in. Default false. */
  subjectMatching?: boolean;
  confidence?: Partial<Record<MatchRule, number>>;
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
const RULE_ORDER: readonly MatchRule[] = ['manual', 'signed_proposal', 'reference', 'participant.address', 'thread', 'participant.domain', 'subject'];

// Links a reply inherits from its thread: what was found for the conversation's subject matter
// (references, signed proposals, a user's manual link, earlier inheritance). Participant links are
// per message (the next reply may have other people on it) and subject hints are too weak to spread.
const INHERITABLE_RULES: ReadonlySet<MatchRule> = new Set<MatchRule>(['reference', 'signed_proposal', 'thread', 'manual']);

const MAX_REASON_LENGTH = 1024;
const MAX_REFERENCE_TOKENS = 64;
// projectsBySubject has no batch form; distinct subjects of a page are asked a few at a time.
const SUBJECT_LOOKUP_CONCURRENCY = 4;
const MIN_SUBJECT_LENGTH = 4;

export interface MatchContext {
  resolver: RecordResolver;
  /** The connection's mailbox address: never linked, and its domain counts as an own domain. */
  accountEmail: string;
  /**
   * Existing links of the message's thread. Links of other messages are inherited (rule 4);
   * manual links and unlinks of this very message, if included, win over every automatic rule.
   */
  threadLinks: RecordLink[];
  now: number;
}

export interface MatchManyContext {
  resolver: RecordResolver;
  /** The connection's tenant; when given, every message must belong to it (a cross-tenant page is a bug). */
  tenantId?: string;
  accountEmail: string;
  /** Existing links per threadId (MessageMeta.threadId), as `threadLinks` in MatchContext. */
  threadLinksByThread: Map<string, RecordLink[]>;
  now: number;
}

export interface LinksForRecordOptions {
  /**
   * The mailbox owner's address (the message's connection account), never linked. Pass it: for
   * inbound mail it cannot be told from the other recipients; outbound falls back to the sender.
   */
  accountEmail?: string;
}

export interface Matcher {
  /** Reference tokens found in subject + attachment names (stored on the message for index rematch). */
  extractReferences(message: Pick<MessageMeta, 'subject' | 'attachments'>): string[];
  /** Links for one message. */
  match(message: MessageMeta, context: MatchContext): Promise<RecordLink[]>;
  /**
   * Links for a page of messages, keyed by message id, with one resolver call per look-up kind
   * and tenant (projectsBySubject: one per distinct subject). Messages of one thread in the same
   * page inherit from each other.
   */
  matchMany(messages: readonly MessageMeta[], context: MatchManyContext): Promise<Map<string, RecordLink[]>>;
  /** The index query that finds the stored history of a record the CRM just gained or changed. */
  rematchQuery(record: ResolvedRecord): MessageIndexQuery;
  /** Links for `record` on one stored message (participants, references, signed proposal), with reasons. */
  linksForRecord(message: MessageMeta, record: ResolvedRecord, now: number, options?: LinksForRecordOptions): RecordLink[];
  /**
   * Rule 4 alone: what `message` inherits from its thread's links. Rematch uses it to carry a
   * newly found project link to the replies whose subjects lost the reference.
   */
  inheritedLinks(message: Pick<MessageMeta, 'id'>, threadLinks: readonly RecordLink[], now: number): RecordLink[];
}

interface Candidate {
  record: RecordRef;
  rule: MatchRule;
  reason: string;
  confidence: number;
}

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

interface Analysis {
  message: MessageMeta;
  addresses: AddressEntry[];
  domains: DomainEntry[];
  references: ReferenceHit[];
  signed: SignedHit[];
  normalizedSubject: string;
}

interface Resolution {
  byAddress: Map<string, ResolvedRecord[]>;
  byDomain: Map<string, ResolvedRecord[]>;
  byReference: Map<string, ResolvedRecord[]>;
  bySubject: Map<string, ResolvedRecord[]>;
}

function decoded(text: string): string {
  // Adapters decode RFC 2047 already; a stray encoded word (a forwarded header, a lazy client) is
  // decoded here too so "=?UTF-8?Q?PRJ=E2=80=931042?=" still yields PRJ-1042.
  return text.includes('=?') ? decodeMimeWords(text) : text;
}

function quote(text: string): string {
  return text.length > 120 ? `'${text.slice(0, 117)}…'` : `'${text}'`;
}

function describeRecord(record: RecordRef): string {
  return record.label ?? record.id;
}

function validateOptions(options: MatchingOptions): void {
  if (typeof options !== 'object' || options === null) throw new ThreadlinkError('CONFIG_INVALID', 'matching options must be an object');
  for (const [rule, value] of Object.entries(options.confidence ?? {})) {
    if (!RULE_ORDER.includes(rule as MatchRule)) throw new ThreadlinkError('CONFIG_INVALID', `matching.confidence has an unknown rule '${rule}'`);
    if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
      throw new ThreadlinkError('CONFIG_INVALID', `matching.confidence.${rule} must be a number between 0 and 1`);
    }
  }
  for (const key of ['referencePatterns', 'freeMailDomains', 'ownDomains'] as const) {
    if (options[key] !== undefined && !Array.isArray(options[key])) throw new ThreadlinkError('CONFIG_INVALID', `matching.${key} must be an array`);
  }
}

export function createMatcher(options: MatchingOptions = {}): Matcher {
  validateOptions(options);
  const confidence: Record<MatchRule, number> = { ...DEFAULT_CONFIDENCE, ...options.confidence };
  const plusAddressing = options.plusAddressing ?? true;
  const subjectMatching = options.subjectMatching ?? false;
  const references = createReferenceExtractor(options.referencePatterns ?? [], 'referencePatterns');
  const signedOptions = options.signedProposal === false ? null : (options.signedProposal ?? {});
  const signedReferences: ReferenceExtractor | null =
    signedOptions === null ? null : signedOptions.referencePatterns ? createReferenceExtractor(signedOptions.referencePatterns, 'signedProposal.referencePatterns') : references;
  const signedDetector: SignedDetector | null = signedOptions === null ? null : createSignedDetector(signedOptions.keywords ?? DEFAULT_SIGNED_KEYWORDS);
  const signedTypes = signedOptions?.recordTypes ? new Set(signedOptions.recordTypes) : null;
  const baseDomains = createDomainClassifier(options.freeMailDomains ?? [], options.ownDomains ?? []);

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

  const resolve = async (tenantId: string, analyses: readonly Analysis[], resolver: RecordResolver): Promise<Resolution> => {
    const contactsByEmail = resolverMethod(resolver, 'contactsByEmail');
    const companiesByDomain = resolverMethod(resolver, 'companiesByDomain');
    const projectsByReference = resolverMethod(resolver, 'projectsByReference');
    const projectsBySubject = subjectMatching ? resolverMethod(resolver, 'projectsBySubject') : undefined;

    const addresses = new Set<string>();
    const domains = new Set<string>();
    const referenceTokens = new Map<string, string>();
    const subjects = new Set<string>();
    for (const analysis of analyses) {
      for (const entry of analysis.addresses) for (const lookup of entry.lookups) addresses.add(lookup);
      for (const entry of analysis.domains) domains.add(entry.domain);
      for (const hit of analysis.references) if (!referenceTokens.has(hit.key)) referenceTokens.set(hit.key, hit.token);
      for (const hit of analysis.signed) if (!referenceTokens.has(hit.key)) referenceTokens.set(hit.key, hit.token);
      if (analysis.normalizedSubject.length >= MIN_SUBJECT_LENGTH) subjects.add(analysis.normalizedSubject);
    }
    const addressList = [...addresses];
    const domainList = [...domains];
    const tokenList = [...referenceTokens.values()];
    const subjectList = [...subjects];
    const lower = (key: string): string => key.trim().toLowerCase();

    const [byAddress, byDomain, byReference, bySubject] = await Promise.all([
      addressList.length === 0 || !contactsByEmail
        ? new Map<string, ResolvedRecord[]>()
        : callResolver('contactsByEmail', () => contactsByEmail(tenantId, addressList)).then((records) =>
            attribute('contactsByEmail', 'emails', records, addressList, (record) => record.emails, lower),
          ),
      domainList.length === 0 || !companiesByDomain
        ? new Map<string, ResolvedRecord[]>()
        : callResolver('companiesByDomain', () => companiesByDomain(tenantId, domainList)).then((records) =>
            attribute('companiesByDomain', 'domains', records, domainList, (record) => record.domains, lower),
          ),
      tokenList.length === 0 || !projectsByReference
        ? new Map<string, ResolvedRecord[]>()
        : callResolver('projectsByReference', () => projectsByReference(tenantId, tokenList)).then((records) =>
            attribute(
              'projectsByReference',
              'references',
              records,
              tokenList,
              // Without `references`, a record whose label or id IS the reference still attributes.
              (record) => record.references ?? nonEmpty([record.label, record.id].filter((key): key is string => key !== undefined && referenceTokens.has(referenceKey(key)))),
              referenceKey,
            ),
          ),
      subjectList.length === 0 || !projectsBySubject
        ? new Map<string, ResolvedRecord[]>()
        : mapWithConcurrency(subjectList, SUBJECT_LOOKUP_CONCURRENCY, (subject) => callResolver('projectsBySubject', () => projectsBySubject(tenantId, subject))).then(
            (answers) => new Map(subjectList.map((subject, index) => [subject, answers[index] ?? []])),
          ),
    ]);
    return { byAddress, byDomain, byReference, bySubject };
  };

  const directCandidates = (analysis: Analysis, resolution: Resolution): Candidate[] => {
    const candidates: Candidate[] = [];
    for (const entry of analysis.addresses) {
      for (const lookup of entry.lookups) {
        for (const record of resolution.byAddress.get(lookup) ?? []) {
          const reason = lookup === entry.address ? `${entry.role} ${entry.address}` : `${entry.role} ${entry.address} (as ${lookup})`;
          candidates.push({ record, rule: 'participant.address', reason, confidence: confidence['participant.address'] });
        }
      }
    }
    for (const entry of analysis.domains) {
      for (const record of resolution.byDomain.get(entry.domain) ?? []) {
        candidates.push({ record, rule: 'participant.domain', reason: `domain ${entry.domain} (${entry.role} ${entry.address})`, confidence: confidence['participant.domain'] });
      }
    }
    for (const hit of analysis.references) {
      const reason =
        hit.source.kind === 'subject'
          ? `subject contains ${hit.token}`
          : hit.source.kind === 'attachment'
            ? `attachment ${quote(hit.source.name)} contains ${hit.token}`
            : `reference ${hit.token}`;
      for (const record of resolution.byReference.get(hit.key) ?? []) candidates.push({ record, rule: 'reference', reason, confidence: confidence.reference });
    }
    for (const hit of analysis.signed) {
      for (const record of resolution.byReference.get(hit.key) ?? []) {
        if (signedTypes && !signedTypes.has(record.type)) continue;
        candidates.push({ record, rule: 'signed_proposal', reason: hit.reason, confidence: confidence.signed_proposal });
      }
    }
    if (analysis.normalizedSubject) {
      for (const record of resolution.bySubject.get(analysis.normalizedSubject) ?? []) {
        candidates.push({ record, rule: 'subject', reason: `subject matches open ${record.type} ${describeRecord(record)}`, confidence: confidence.subject });
      }
    }
    return candidates;
  };

  const inheritedCandidates = (messageId: string, threadLinks: readonly RecordLink[]): Candidate[] => {
    // A manual unlink anywhere in the thread means a person said "not this record" about the
    // conversation; inheritance is only a guess, so it never overrides that.
    const suppressed = new Set(threadLinks.filter((link) => link.suppressed).map((link) => recordKey(link.record)));
    const candidates: Candidate[] = [];
    for (const link of threadLinks) {
      if (link.messageId === messageId || link.suppressed || !INHERITABLE_RULES.has(link.rule) || suppressed.has(recordKey(link.record))) continue;
      candidates.push({ record: link.record, rule: 'thread', reason: `thread already linked to ${describeRecord(link.record)}`, confidence: confidence.thread });
    }
    return candidates;
  };

  const toLinks = (messageId: string, candidates: readonly Candidate[], ownLinks: readonly RecordLink[], now: number): RecordLink[] => {
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
      (left, right) => right.confidence - left.confidence || (recordKey(left.record) < recordKey(right.record) ? -1 : recordKey(left.record) > recordKey(right.record) ? 1 : 0),
    );
  };

  const matchMany = async (messages: readonly MessageMeta[], context: MatchManyContext): Promise<Map<string, RecordLink[]>> => {
    const { resolver, accountEmail, threadLinksByThread, now } = context;
    if (context.tenantId !== undefined && messages.some((message) => message.tenantId !== context.tenantId)) {
      throw new ThreadlinkError('INVALID_INPUT', 'matchMany was given messages of another tenant', { details: { tenantId: context.tenantId } });
    }
    const analyses = messages.map((message) => analyse(message, accountEmail));
    const byTenant = new Map<string, Analysis[]>();
    for (const analysis of analyses) {
      const list = byTenant.get(analysis.message.tenantId);
      if (list) list.push(analysis);
      else byTenant.set(analysis.message.tenantId, [analysis]);
    }
    const direct = new Map<string, Candidate[]>();
    for (const [tenantId, tenantAnalyses] of byTenant) {
      const resolution = await resolve(tenantId, tenantAnalyses, resolver);
      for (const analysis of tenantAnalyses) direct.set(analysis.message.id, directCandidates(analysis, resolution));
    }

    // Within a page, a thread's messages see each other's fresh links; their stored automatic links
    // are about to be replaced by these, so only their manual decisions are kept from the store.
    const pageIds = new Set(messages.map((message) => message.id));
    const pageLinksByThread = new Map<string, RecordLink[]>();
    for (const message of messages) {
      const key = `${message.tenantId}\u0000${message.threadId}`;
      let links = pageLinksByThread.get(key);
      if (!links) {
        const stored = threadLinksByThread.get(message.threadId) ?? [];
        links = stored.filter((link) => !pageIds.has(link.messageId) || link.manual || link.suppressed);
        pageLinksByThread.set(key, links);
      }
      links.push(...toLinks(message.id, direct.get(message.id) ?? [], [], now));
    }

    const out = new Map<string, RecordLink[]>();
    for (const message of messages) {
      const threadLinks = pageLinksByThread.get(`${message.tenantId}\u0000${message.threadId}`) ?? [];
      const ownLinks = (threadLinksByThread.get(message.threadId) ?? []).filter((link) => link.messageId === message.id);
      const candidates = [...(direct.get(message.id) ?? []), ...inheritedCandidates(message.id, threadLinks)];
      out.set(message.id, toLinks(message.id, candidates, ownLinks, now));
    }
    return out;
  };

  return {
    extractReferences,
    matchMany,
    async match(message, context) {
      const links = await matchMany([message], {
        resolver: context.resolver,
        accountEmail: context.accountEmail,
        threadLinksByThread: new Map([[message.threadId, context.threadLinks]]),
        now: context.now,
      });
      return links.get(message.id) ?? [];
    },
    rematchQuery(record) {
      const query: MessageIndexQuery = {};
      const addresses = [...new Set((record.emails ?? []).map((address) => address.trim().toLowerCase()).filter((address) => address.includes('@')))];
      const domains = [...new Set((record.domains ?? []).map((domain) => domain.trim().toLowerCase()))].filter(
        (domain) => domain && !baseDomains.isFreeMail(domain) && !baseDomains.isOwn(domain),
      );
      // Stored tokens are canonical forms; the CRM may spell the reference differently, so every
      // plausible spelling is asked (the index is exact-match).
      const tokens = new Set<string>();
      for (const reference of record.references ?? []) {
        const trimmed = reference.trim();
        if (!trimmed) continue;
        tokens.add(trimmed);
        tokens.add(trimmed.toUpperCase());
        for (const extractor of [references, signedReferences]) {
          const canonical = extractor?.canonical(trimmed);
          if (canonical) tokens.add(canonical);
        }
      }
      if (addresses.length > 0) query.addresses = addresses;
      if (domains.length > 0) query.domains = domains;
      if (tokens.size > 0) query.referenceTokens = [...tokens];
      return query;
    },
    linksForRecord(message, record, now, linkOptions = {}) {
      const accountEmail = linkOptions.accountEmail ?? (message.direction === 'outbound' ? (message.from?.address ?? null) : null);
      const analysis = analyse(message, accountEmail);
      const asResolution = (keys: readonly string[] | undefined, normalize: (key: string) => string): Map<string, ResolvedRecord[]> =>
        new Map((keys ?? []).map((key) => [normalize(key), [record]]));
      const lower = (key: string): string => key.trim().toLowerCase();
      const resolution: Resolution = {
        byAddress: asResolution(record.emails, lower),
        byDomain: asResolution(record.domains, lower),
        byReference: asResolution(record.references, referenceKey),
        bySubject: new Map(),
      };
      return toLinks(message.id, directCandidates(analysis, resolution), [], now);
    },
    inheritedLinks(message, threadLinks, now) {
      const own = threadLinks.filter((link) => link.messageId === message.id);
      return toLinks(message.id, inheritedCandidates(message.id, threadLinks), own, now);
    },
  };
}

function nonEmpty<T>(list: T[]): T[] | undefined {
  return list.length > 0 ? list : undefined;
}
