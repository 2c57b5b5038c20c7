// The ingestion policy: which mail threadlink keeps out of the store. One set of rules per tenant
// (an admin's) and one per connection (its owner's), both in this strict vocabulary.
//
// Exclusion grammar (every entry lower-cased and trimmed before it is checked):
//   alice@example.com   that address exactly
//   *@hr.example.com    every address at hr.example.com exactly (subdomains not included)
//   example.com         the same as *@example.com
//   *.example.com       every address at any subdomain of example.com (not example.com itself:
//                       list both to cover both)
// Nothing else: no `*` inside a name, no `?`, no regular expressions — a rule says what it
// excludes at a glance, and an invalid one is refused (POLICY_INVALID naming it), never ignored.
import { z } from 'zod';

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const DOMAIN = `${LABEL}(?:\\.${LABEL})+`;
/** A local part as mail really uses it: printable ASCII without spaces, `@`, `*` or quotes' edge cases. */
const LOCAL = "[a-z0-9!#$%&'+/=?^_`{|}~.-]{1,64}";
export const EXCLUSION_PATTERN = new RegExp(`^(?:${LOCAL}@${DOMAIN}|\\*@${DOMAIN}|${DOMAIN}|\\*\\.${DOMAIN})$`);

export const ExclusionRule = z
  .string()
  .trim()
  .toLowerCase()
  .max(320)
  .regex(EXCLUSION_PATTERN, 'an exclusion is an address (a@example.com), a domain (example.com, *@example.com) or a subdomain wildcard (*.example.com)');

export const PolicyFolder = z.enum(['inbox', 'sent', 'archive', 'trash', 'spam', 'drafts', 'other']);

/** Include: when non-empty, a message must be in one of these. Exclude: a message in any of these is kept out. */
const FolderFilter = z.strictObject({
  include: z.array(PolicyFolder).max(7).default([]),
  exclude: z.array(PolicyFolder).max(7).default([]),
});
const LabelFilter = z.strictObject({
  include: z.array(z.string().min(1).max(255)).max(200).default([]),
  exclude: z.array(z.string().min(1).max(255)).max(200).default([]),
});

const ruleFields = {
  /** Addresses and domains whose mail is never stored (any participant: from, to, cc, bcc, reply-to). */
  exclude: z.array(ExclusionRule).max(1000).default([]),
  /** 'skip': mail where every participant is in the tenant's `ownDomains` is not stored. */
  internalOnly: z.enum(['skip', 'keep']).default('keep'),
  /** Normalised folders (provider-neutral). */
  folders: FolderFilter.default({ include: [], exclude: [] }),
  /**
   * Labels and folders, by the provider's id as stored on messages (Gmail `Label_12`, `INBOX`; an
   * Outlook folder id) or by name ("HR", "Personal/Doctor", "Archive"; any case). A connection's
   * names are saved as the ids they name (they follow a rename); a tenant's match by name
   * (policy/labels.ts).
   */
  labels: LabelFilter.default({ include: [], exclude: [] }),
  /** 'matched': only mail linked to a CRM record (directly or through its thread) is stored. */
  store: z.enum(['all', 'matched']).default('all'),
};

/** A connection's own rules (its owner's or an admin's). */
export const ConnectionPolicy = z.strictObject(ruleFields);
export type ConnectionPolicy = z.infer<typeof ConnectionPolicy>;
export type ConnectionPolicyInput = z.input<typeof ConnectionPolicy>;

/** The tenant's rules (admin only), plus the domains that make mail "internal". */
export const TenantPolicy = z.strictObject({
  ...ruleFields,
  /** The tenant's own mail domains (exact, lower-case): what `internalOnly` calls internal. */
  ownDomains: z
    .array(
      z
        .string()
        .trim()
        .toLowerCase()
        .regex(new RegExp(`^${DOMAIN}$`), 'an own domain is a plain domain (example.com)'),
    )
    .max(100)
    .default([]),
});
export type TenantPolicy = z.infer<typeof TenantPolicy>;
export type TenantPolicyInput = z.input<typeof TenantPolicy>;
