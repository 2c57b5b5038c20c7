// The matcher: which CRM records a message belongs to, from metadata only (participants, subject,
// attachment names, the thread's existing links). Provider-agnostic; the engine calls `matchMany`
// per sync page and stores the links with the page, `linksForRecord` when the CRM gains a record.
import type { MatchRule, MessageMeta, RecordLink } from '../domain/schemas.js';
import { ThreadlinkError } from '../errors.js';
import type { MessageIndexQuery } from '../ports/metadata-store.js';
import type { RecordResolver, ResolvedRecord } from '../ports/record-resolver.js';
import { createAnalyser, type Analysis } from './analysis.js';
import { resolveBatch, type Resolution } from './batch-resolve.js';
import { directCandidates, inheritedCandidates, type CandidateRules } from './candidates.js';
import { createDomainClassifier } from './domains.js';
import { createReferenceExtractor, referenceKey, type ReferenceExtractor } from './references.js';
import { DEFAULT_CONFIDENCE, RULE_ORDER, toLinks, type Candidate } from './scoring.js';
import { createSignedDetector, DEFAULT_SIGNED_KEYWORDS, type SignedDetector } from './signed-proposal.js';

interface SignedProposalOptions {
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

interface MatchContext {
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

interface MatchManyContext {
  resolver: RecordResolver;
  /** The connection's tenant; when given, every message must belong to it (a cross-tenant page is a bug). */
  tenantId?: string;
  accountEmail: string;
  /** Existing links per threadId (MessageMeta.threadId), as `threadLinks` in MatchContext. */
  threadLinksByThread: Map<string, RecordLink[]>;
  now: number;
}

interface LinksForRecordOptions {
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
  /**
   * `matchMany` in two steps: the resolver rounds now, and the rest (thread inheritance, own manual
   * decisions) once the stored thread links are known, synchronously — so the store can read the
   * threads inside its write (`SyncBatch.linksFromThreads`) instead of in a round trip of their own.
   */
  prepareMany(
    messages: readonly MessageMeta[],
    context: Omit<MatchManyContext, 'threadLinksByThread'>,
  ): Promise<(threadLinksByThread: Map<string, RecordLink[]>) => Map<string, RecordLink[]>>;
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
  const subjectMatching = options.subjectMatching ?? false;
  const references = createReferenceExtractor(options.referencePatterns ?? [], 'referencePatterns');
  const signedOptions = options.signedProposal === false ? null : (options.signedProposal ?? {});
  const signedReferences: ReferenceExtractor | null =
    signedOptions === null
      ? null
      : signedOptions.referencePatterns
        ? createReferenceExtractor(signedOptions.referencePatterns, 'signedProposal.referencePatterns')
        : references;
  const signedDetector: SignedDetector | null = signedOptions === null ? null : createSignedDetector(signedOptions.keywords ?? DEFAULT_SIGNED_KEYWORDS);
  const baseDomains = createDomainClassifier(options.freeMailDomains ?? [], options.ownDomains ?? []);
  const rules: CandidateRules = { confidence, signedTypes: signedOptions?.recordTypes ? new Set(signedOptions.recordTypes) : null };
  const { extractReferences, analyse } = createAnalyser({
    references,
    signedReferences,
    signedDetector,
    domains: baseDomains,
    plusAddressing: options.plusAddressing ?? true,
    subjectMatching,
  });

  const matchMany = async (messages: readonly MessageMeta[], context: MatchManyContext): Promise<Map<string, RecordLink[]>> =>
    (await prepareMany(messages, context))(context.threadLinksByThread);

  const prepareMany = async (
    messages: readonly MessageMeta[],
    context: Omit<MatchManyContext, 'threadLinksByThread'>,
  ): Promise<(threadLinksByThread: Map<string, RecordLink[]>) => Map<string, RecordLink[]>> => {
    const { resolver, accountEmail, now } = context;
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
      const resolution = await resolveBatch(tenantId, tenantAnalyses, resolver, subjectMatching);
      for (const analysis of tenantAnalyses) direct.set(analysis.message.id, directCandidates(analysis, resolution, rules));
    }
    return (threadLinksByThread) => inherit(messages, direct, threadLinksByThread, now);
  };

  const inherit = (
    messages: readonly MessageMeta[],
    direct: ReadonlyMap<string, Candidate[]>,
    threadLinksByThread: Map<string, RecordLink[]>,
    now: number,
  ): Map<string, RecordLink[]> => {
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
      const candidates = [...(direct.get(message.id) ?? []), ...inheritedCandidates(message.id, threadLinks, rules)];
      out.set(message.id, toLinks(message.id, candidates, ownLinks, now));
    }
    return out;
  };

  return {
    extractReferences,
    matchMany,
    prepareMany,
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
      return toLinks(message.id, directCandidates(analysis, resolution, rules), [], now);
    },
    inheritedLinks(message, threadLinks, now) {
      const own = threadLinks.filter((link) => link.messageId === message.id);
      return toLinks(message.id, inheritedCandidates(message.id, threadLinks, rules), own, now);
    },
  };
}
