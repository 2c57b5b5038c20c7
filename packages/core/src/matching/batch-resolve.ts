// One resolver round for a whole page of analysed messages: every distinct address, domain and
// reference asked in ONE call per look-up kind (projectsBySubject has no batch form: one call per
// distinct subject, a few at a time), and each answer attributed back to the key it answers.
import type { RecordResolver, ResolvedRecord } from '../ports/record-resolver.js';
import { mapWithConcurrency } from '../util/concurrency.js';
import type { Analysis } from './analysis.js';
import { referenceKey } from './references.js';
import { attribute, callResolver, resolverMethod } from './resolve.js';

// projectsBySubject has no batch form; distinct subjects of a page are asked a few at a time.
const SUBJECT_LOOKUP_CONCURRENCY = 4;
const MIN_SUBJECT_LENGTH = 4;

/** What the CRM answered, by look-up key (lower-case address/domain, reference key, normalised subject). */
export interface Resolution {
  byAddress: Map<string, ResolvedRecord[]>;
  byDomain: Map<string, ResolvedRecord[]>;
  byReference: Map<string, ResolvedRecord[]>;
  bySubject: Map<string, ResolvedRecord[]>;
}

export async function resolveBatch(tenantId: string, analyses: readonly Analysis[], resolver: RecordResolver, subjectMatching: boolean): Promise<Resolution> {
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
            (record) =>
              record.references ??
              nonEmpty([record.label, record.id].filter((key): key is string => key !== undefined && referenceTokens.has(referenceKey(key)))),
            referenceKey,
          ),
        ),
    subjectList.length === 0 || !projectsBySubject
      ? new Map<string, ResolvedRecord[]>()
      : mapWithConcurrency(subjectList, SUBJECT_LOOKUP_CONCURRENCY, (subject) =>
          callResolver('projectsBySubject', () => projectsBySubject(tenantId, subject)),
        ).then((answers) => new Map(subjectList.map((subject, index) => [subject, answers[index] ?? []]))),
  ]);
  return { byAddress, byDomain, byReference, bySubject };
}

function nonEmpty<T>(list: T[]): T[] | undefined {
  return list.length > 0 ? list : undefined;
}
