// Links a reply inherits from its thread: what was found for the conversation's subject matter
// (references, signed proposals, a user's manual link, earlier inheritance). Participant links are
// per message (the next reply may have other people on it) and subject hints are too weak to spread.
// One home for the rule: the matcher (at sync time) and rematch (retroactively) both ask here.
import type { MatchRule } from '../domain/schemas.js';

const INHERITABLE_RULES: ReadonlySet<MatchRule> = new Set<MatchRule>(['reference', 'signed_proposal', 'thread', 'manual']);

export function isInheritable(link: { rule: MatchRule; suppressed?: boolean }): boolean {
  return !link.suppressed && INHERITABLE_RULES.has(link.rule);
}
