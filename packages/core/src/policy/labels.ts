// Label and folder rules by name. A rule entry in `labels.include` / `labels.exclude` may be what
// the provider stores on messages (a Gmail label id `Label_12`, `INBOX`; an Outlook folder id) or
// what the user sees: the label's or folder's name ("HR", "Personal/Doctor" — Gmail's nested
// labels are named by their path —, "Archive"; any case).
//
// A connection's rules follow the label, not its name: at set time each name is resolved against
// the mailbox's label directory and saved as the id(s) it names now. Renaming the HR folder to
// "People" therefore keeps its mail out — what a user who said "exclude my HR folder" means, and
// the safe side for a privacy rule (following the name would let that mail in on a rename, and
// would catch an unrelated folder later given the old name). A name the directory does not hold is
// refused (POLICY_INVALID) while the directory is known; before the first directory read it is
// kept as typed and matches by name until the rules are saved again.
//
// The tenant's rules apply to every mailbox, whose ids differ, so they keep names as typed and
// match each message's labels by id or by current name (evaluate.ts, with the directory that
// admit.ts attaches): a tenant rule follows the name.
import type { ConnectionPolicy } from '../domain/policy.js';
import type { Connection, LabelRef } from '../domain/schemas.js';
import { ThreadlinkError } from '../errors.js';
import type { MetadataStore } from '../ports/metadata-store.js';

const MAX_LABEL_RULES = 200;

function resolveList(entries: readonly string[], path: string, directory: readonly LabelRef[], known: boolean): string[] {
  const out: string[] = [];
  for (const [index, entry] of entries.entries()) {
    if (directory.some((label) => label.id === entry)) {
      out.push(entry);
      continue;
    }
    const wanted = entry.trim().toLowerCase();
    const named = directory.filter((label) => label.name.toLowerCase() === wanted);
    if (named.length > 0) {
      out.push(...named.map((label) => label.id));
      continue;
    }
    if (known) {
      throw new ThreadlinkError(
        'POLICY_INVALID',
        `Invalid connection policy rule ${path}.${index} "${entry.slice(0, 255)}": this mailbox has no label or folder with that name or id`,
        { details: { rule: `${path}.${index}`, level: 'connection' } },
      );
    }
    out.push(entry);
  }
  const unique = [...new Set(out)];
  if (unique.length > MAX_LABEL_RULES) {
    throw new ThreadlinkError('POLICY_INVALID', `Invalid connection policy rule ${path}: more than ${MAX_LABEL_RULES} labels`, {
      details: { rule: path, level: 'connection' },
    });
  }
  return unique;
}

/** A connection's label rules with every name replaced by the id(s) it names in the mailbox now. */
export async function resolveLabelRules(store: MetadataStore, connection: Connection, rules: ConnectionPolicy): Promise<ConnectionPolicy> {
  if (rules.labels.include.length === 0 && rules.labels.exclude.length === 0) return rules;
  const directory = await store.listLabels(connection.tenantId, [connection.id]);
  const known = (connection.health.labelsRefreshedAt ?? null) !== null || directory.length > 0;
  return {
    ...rules,
    labels: {
      include: resolveList(rules.labels.include, 'labels.include', directory, known),
      exclude: resolveList(rules.labels.exclude, 'labels.exclude', directory, known),
    },
  };
}
