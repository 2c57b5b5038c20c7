// Rolling deploys run release N-1 and release N side by side on one database: N migrates at start
// while N-1 still reads and writes. So every migration must be forward-compatible for one release
// (N-1's SQL keeps working on schema N) and must not hold a lock that stalls N-1. The package's
// migrations run in ONE transaction (packages/storage-postgres/src/migrations.ts), so CREATE INDEX
// CONCURRENTLY is not available: a new index must be on a new table.
// This lint reads each migration's statements and refuses, on a table an EARLIER migration created:
//   drop-table, drop-column, rename, column-type, set-not-null      N-1's queries would break
//   not-null-without-default                                        N-1's INSERTs would fail
//   drop-constraint, drop-index                                     N-1's ON CONFLICT targets / plans
//   add-constraint (CHECK without NOT VALID, UNIQUE, PK, FK)        N-1's writes may violate it; scans under lock
//   index-on-existing-table                                         blocks N-1's writes for the build
//   rewrite-rows (UPDATE / DELETE)                                  row locks and a long transaction
// An exception needs an entry in ALLOWED with the reason it is safe (a reviewer reads it).
import type { Migration } from '@threadlink/storage-postgres';

type LintRule =
  | 'drop-table'
  | 'drop-column'
  | 'rename'
  | 'column-type'
  | 'set-not-null'
  | 'not-null-without-default'
  | 'drop-constraint'
  | 'drop-index'
  | 'add-constraint'
  | 'index-on-existing-table'
  | 'rewrite-rows';

export interface LintViolation {
  version: number;
  rule: LintRule;
  statement: string;
}

/** `${version}:${rule}` → why this one is safe. */
const ALLOWED: Record<string, string> = {
  '2:drop-constraint':
    'loosens the provider CHECK (closed list → any slug): every value release 1 writes still passes, and the constraint is no ON CONFLICT target',
  '2:add-constraint':
    "re-adds the looser provider CHECK in the same transaction; the validating scan is of `connections` (one row per mailbox), a moment's lock",
  '5:index-on-existing-table':
    "`connections_org` (org_id) is built on `connections` (one row per mailbox: thousands, not millions), a moment's SHARE lock; it is partial (org_id IS NOT NULL), so while release N-1 runs it holds no entry at all",
};

const statementsOf = (sql: string): string[] =>
  sql
    .replace(/--[^\n]*/g, ' ')
    .split(';')
    .map((statement) => statement.replace(/\s+/g, ' ').trim())
    .filter(Boolean);

const name = (raw: string | undefined): string => (raw ?? '').replace(/"/g, '').replace(/^.*\./, '').toLowerCase();

export function lintMigrations(migrations: readonly Migration[], allowed: Record<string, string> = ALLOWED): LintViolation[] {
  const violations: LintViolation[] = [];
  const earlier = new Set<string>();
  for (const migration of [...migrations].sort((left, right) => left.version - right.version)) {
    const created = new Set<string>();
    const flag = (rule: LintRule, statement: string): void => {
      if (!allowed[`${migration.version}:${rule}`]) violations.push({ version: migration.version, rule, statement });
    };
    for (const statement of statementsOf(migration.sql)) {
      const upper = statement.toUpperCase();
      const createTable = /^CREATE (?:UNLOGGED )?TABLE (?:IF NOT EXISTS )?([\w".]+)/i.exec(statement);
      if (createTable) {
        created.add(name(createTable[1]));
        continue;
      }
      if (/^DROP TABLE/i.test(statement)) {
        flag('drop-table', statement);
        continue;
      }
      if (/^DROP INDEX/i.test(statement)) {
        flag('drop-index', statement);
        continue;
      }
      const index = /^CREATE (?:UNIQUE )?INDEX (?:CONCURRENTLY )?(?:IF NOT EXISTS )?(?:[\w"]+ )?ON (?:ONLY )?([\w".]+)/i.exec(statement);
      if (index) {
        if (earlier.has(name(index[1]))) flag('index-on-existing-table', statement);
        continue;
      }
      const rewrite = /^(?:UPDATE|DELETE FROM) ([\w".]+)/i.exec(statement);
      if (rewrite) {
        if (earlier.has(name(rewrite[1]))) flag('rewrite-rows', statement);
        continue;
      }
      const alter = /^ALTER TABLE (?:IF EXISTS )?(?:ONLY )?([\w".]+) (.*)$/i.exec(statement);
      if (!alter || !earlier.has(name(alter[1]))) continue;
      if (/\bRENAME\b/.test(upper)) flag('rename', statement);
      // `DROP x` alone is DROP COLUMN x; DROP DEFAULT / NOT NULL / IDENTITY / EXPRESSION alter a column.
      if (/\bDROP (?!CONSTRAINT\b|DEFAULT\b|NOT NULL\b|IDENTITY\b|EXPRESSION\b)/.test(upper)) flag('drop-column', statement);
      if (/\bALTER (?:COLUMN )?\S+ (?:SET DATA )?TYPE\b/.test(upper)) flag('column-type', statement);
      if (/\bALTER (?:COLUMN )?\S+ SET NOT NULL\b/.test(upper)) flag('set-not-null', statement);
      if (/\bDROP CONSTRAINT\b/.test(upper)) flag('drop-constraint', statement);
      for (const added of upper.split(/,(?![^(]*\))/)) {
        if (/\bADD (?:COLUMN )?(?!CONSTRAINT\b)\S+ .*\bNOT NULL\b/.test(added) && !/\bDEFAULT\b/.test(added)) flag('not-null-without-default', statement);
        if (/\bADD (?:CONSTRAINT \S+ )?(?:CHECK\b|UNIQUE\b|PRIMARY KEY\b|FOREIGN KEY\b|EXCLUDE\b)/.test(added) && !/\bNOT VALID\b/.test(added)) {
          flag('add-constraint', statement);
        }
      }
    }
    for (const table of created) earlier.add(table);
  }
  return violations;
}
