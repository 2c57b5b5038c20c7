// Contact discovery: the people the tenant's mailboxes exchange mail with whom the CRM does not
// know yet, from stored metadata only (no body is read). One store query counts the exchanges per
// address (participantActivity, two-way first); the resolver is asked once, in a batch, which of
// the candidates it already knows (contactsByEmail) and which companies their domains belong to
// (companiesByDomain); the rest are scored (score.ts) and ranked. The tenant's own mailboxes and
// domains are never suggested. When the CRM then creates one, `tl.matching.rematch` links the
// stored history, as for any new record.
//
// `contact.suggested` fires when an address's score reaches the threshold after new mail synced:
// the addresses of newly stored messages are re-scored in one batch per tenant, shortly after the
// commit (only while a listener is subscribed: see threadlink.ts), and each address is announced at most once per 30 days (a claim in the store, keyed by
// a hash of tenant and address, so several processes announce it once between them).
import type { ContactSuggestion, ContactSuggestOptions, Scope } from '../api.js';
import { checkScope, type CoreContext } from '../context.js';
import type { MessageMeta, RecordRef } from '../domain/schemas.js';
import { ThreadlinkError, toThreadlinkError } from '../errors.js';
import { createDomainClassifier, type DomainClassifier } from '../matching/domains.js';
import { attribute, callResolver, resolverMethod, toRecordRef } from '../matching/resolve.js';
import type { ParticipantActivity } from '../ports/metadata-store.js';
import { stableId } from '../security/hash.js';
import { domainOf } from '../util/headers.js';
import { MAX_PAGE_LIMIT } from '../util/store-rules.js';
import { lastExchangeAt, suggestionScore } from './score.js';

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;
const DEFAULT_WINDOW_MS = 365 * 86_400_000;
/** Candidates read from the store per suggestion returned: known contacts and recency reorder them. */
const POOL_FACTOR = 10;
const DEFAULT_SUGGEST_THRESHOLD = 2;
const ANNOUNCE_EVERY_MS = 30 * 86_400_000;

interface Exclusions {
  addresses: string[];
  domains: string[];
  classifier: DomainClassifier;
}

export function createContactSuggestions(context: CoreContext) {
  const { store, clock, config } = context;
  const threshold = config.contacts?.suggestThreshold ?? DEFAULT_SUGGEST_THRESHOLD;
  if (typeof threshold !== 'number' || !(threshold > 0)) throw new ThreadlinkError('CONFIG_INVALID', 'contacts.suggestThreshold must be a positive number');
  const configuredOwn = config.matching?.ownDomains ?? [];

  /** The tenant's own addresses and domains: every connected mailbox's, plus `matching.ownDomains`. */
  async function exclusionsOf(tenantId: string): Promise<Exclusions> {
    const connections = await store.listConnections({ tenantId });
    const addresses = connections.map((connection) => connection.accountEmail.toLowerCase());
    const freeMail = createDomainClassifier(config.matching?.freeMailDomains ?? [], []);
    // A colleague's gmail.com mailbox makes gmail.com nobody's own domain.
    const domains = [
      ...new Set([...configuredOwn.map((domain) => domain.trim().toLowerCase()), ...addresses.map(domainOf).filter((domain) => !freeMail.isFreeMail(domain))]),
    ];
    return { addresses, domains, classifier: createDomainClassifier(config.matching?.freeMailDomains ?? [], domains) };
  }

  /** The candidates the CRM does not know, scored, with their company, best first. */
  async function rank(tenantId: string, activity: ParticipantActivity[], exclusions: Exclusions): Promise<ContactSuggestion[]> {
    if (activity.length === 0) return [];
    const addresses = activity.map((entry) => entry.address);
    const lower = (key: string): string => key.trim().toLowerCase();
    const contactsByEmail = resolverMethod(config.resolver, 'contactsByEmail')!;
    const known = attribute(
      'contactsByEmail',
      'emails',
      await callResolver('contactsByEmail', () => contactsByEmail(tenantId, addresses)),
      addresses,
      (record) => record.emails,
      lower,
    );
    const unknown = activity.filter((entry) => (known.get(entry.address)?.length ?? 0) === 0);
    const domains = [...new Set(unknown.map((entry) => domainOf(entry.address)))].filter(
      (domain) => !exclusions.classifier.isFreeMail(domain) && !exclusions.classifier.isOwn(domain),
    );
    const companiesByDomain = resolverMethod(config.resolver, 'companiesByDomain');
    const companies =
      domains.length === 0 || !companiesByDomain
        ? new Map<string, RecordRef[]>()
        : attribute(
            'companiesByDomain',
            'domains',
            await callResolver('companiesByDomain', () => companiesByDomain(tenantId, domains)),
            domains,
            (record) => record.domains,
            lower,
          );
    const now = clock.now();
    return unknown
      .map((entry) => {
        const domain = domainOf(entry.address);
        const company = companies.get(domain)?.[0];
        return {
          address: entry.address,
          name: entry.name,
          domain,
          company: company ? toRecordRef(company) : null,
          score: suggestionScore(entry, now),
          received: entry.received,
          sent: entry.sent,
          lastExchangeAt: lastExchangeAt(entry),
        };
      })
      .sort((left, right) => right.score - left.score || right.lastExchangeAt - left.lastExchangeAt || (left.address < right.address ? -1 : 1));
  }

  async function suggest(rawScope: Scope, options: ContactSuggestOptions = {}): Promise<ContactSuggestion[]> {
    const scope = checkScope(rawScope);
    const limit = options.limit ?? DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)
      throw new ThreadlinkError('INVALID_INPUT', `limit must be an integer from 1 to ${MAX_LIMIT}`);
    if (options.since !== undefined && (typeof options.since !== 'number' || !Number.isFinite(options.since))) {
      throw new ThreadlinkError('INVALID_INPUT', 'since must be a time in epoch milliseconds');
    }
    await context.init();
    // A user's suggestions come from their own mailboxes; an admin's from every mailbox of the tenant.
    const connectionIds =
      scope.userId === undefined
        ? undefined
        : (await store.listConnections({ tenantId: scope.tenantId, userId: scope.userId })).map((connection) => connection.id);
    if (connectionIds?.length === 0) return [];
    const exclusions = await exclusionsOf(scope.tenantId);
    const activity = await store.participantActivity({
      tenantId: scope.tenantId,
      ...(connectionIds ? { connectionIds } : {}),
      since: options.since ?? clock.now() - DEFAULT_WINDOW_MS,
      excludeAddresses: exclusions.addresses,
      excludeDomains: exclusions.domains,
      limit: Math.min(MAX_PAGE_LIMIT, limit * POOL_FACTOR),
    });
    return (await rank(scope.tenantId, activity, exclusions)).slice(0, limit);
  }

  /** Re-scores the counterparts of new messages and announces the ones that reached the threshold. */
  async function announce(tenantId: string, addresses: string[]): Promise<void> {
    const exclusions = await exclusionsOf(tenantId);
    const activity = await store.participantActivity({
      tenantId,
      addresses,
      since: clock.now() - DEFAULT_WINDOW_MS,
      excludeAddresses: exclusions.addresses,
      excludeDomains: exclusions.domains,
      limit: Math.min(MAX_PAGE_LIMIT, addresses.length),
    });
    const now = clock.now();
    const likely = activity.filter((entry) => suggestionScore(entry, now) >= threshold);
    for (const suggestion of await rank(tenantId, likely, exclusions)) {
      if (await store.claimOnce(stableId('contact-suggested', tenantId, suggestion.address), now + ANNOUNCE_EVERY_MS, now)) {
        context.events.emit('contact.suggested', { tenantId, suggestion });
      }
    }
  }

  const pending = new Map<string, Set<string>>();
  let flushing: Promise<void> | null = null;

  async function flush(): Promise<void> {
    while (pending.size > 0) {
      const [tenantId, addresses] = pending.entries().next().value as [string, Set<string>];
      pending.delete(tenantId);
      for (let start = 0; start < addresses.size; start += MAX_PAGE_LIMIT) {
        const batch = [...addresses].slice(start, start + MAX_PAGE_LIMIT);
        try {
          await announce(tenantId, batch);
        } catch (error) {
          // Discovery is a hint: a resolver or store hiccup must not disturb sync. Counts only in the log.
          context.logger.warn('contact suggestions skipped', { tenantId, addresses: batch.length, code: toThreadlinkError(error).code });
        }
      }
    }
  }

  /** The addresses a new message counts for (participantActivity's rule), queued for announce(). */
  function noteSynced(message: MessageMeta): void {
    const counterparts = message.direction === 'inbound' ? (message.from ? [message.from] : []) : [...message.to, ...message.cc, ...message.bcc];
    if (counterparts.length === 0) return;
    let addresses = pending.get(message.tenantId);
    if (!addresses) {
      addresses = new Set();
      pending.set(message.tenantId, addresses);
    }
    for (const participant of counterparts) addresses.add(participant.address.toLowerCase());
    schedule();
  }

  // One flush for everything a sync page stored: it starts after the commit's events are out.
  function schedule(): void {
    if (flushing) return;
    flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(flush).finally(() => {
      flushing = null;
      if (pending.size > 0) schedule();
    });
  }

  /** Resolves when every queued announcement has run (tests, graceful stop). */
  async function settled(): Promise<void> {
    while (flushing) await flushing;
  }

  return { suggest, noteSynced, settled };
}
