export {
  createMatcher,
  type Matcher,
  type MatchingOptions,
  type SignedProposalOptions,
  type MatchContext,
  type MatchManyContext,
  type LinksForRecordOptions,
} from './matcher.js';
export { DEFAULT_CONFIDENCE } from './scoring.js';
export { FREE_MAIL_DOMAINS } from './domains.js';
export { DEFAULT_SIGNED_KEYWORDS } from './signed-proposal.js';
export { referenceKey } from './references.js';
export { createMemoryResolver, type MemoryRecord, type MemoryResolver } from './memory-resolver.js';
