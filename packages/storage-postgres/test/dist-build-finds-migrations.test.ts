// The published build (tsup → dist/index.js and dist/index.cjs) must find the shipped SQL
// migrations at run time, from ESM and from CommonJS alike, and the package must ship them.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const packageDirectory = fileURLToPath(new URL('..', import.meta.url));

const probe = (load: string): string => `
  ${load}
  const store = pgliteStore();
  const report = await store.migrate();
  const tables = await store.sql.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'threadlink' ORDER BY table_name");
  await store.close();
  console.log(JSON.stringify({ applied: report.applied, tables: tables.rows.map((row) => row.table_name) }));
`;

describe('dist build', () => {
  beforeAll(async () => {
    // The package's own build recipe; type declarations are skipped (slow, and not what this checks).
    await run('pnpm', ['exec', 'tsup', '--config', '../../tsup.config.ts', '--no-dts'], { cwd: packageDirectory });
  }, 120_000);

  it('lists the migrations folder among the published files', async () => {
    const manifest = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { files: string[] };
    expect(manifest.files).toContain('migrations');
  });

  it.each([
    ['ESM', 'import { pgliteStore } from "./dist/index.js";', '--input-type=module'],
    ['CommonJS', 'const { pgliteStore } = require("./dist/index.cjs"); (async () => {', '--input-type=commonjs'],
  ])('applies the shipped migrations from the %s build', async (_format, load, inputType) => {
    const script = inputType === '--input-type=commonjs' ? `${probe(load)} })();` : probe(load);
    // @threadlink/core is taken from its sources (tsx + the `source` condition) so only this
    // package's build is under test; pg and PGlite load as published.
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--conditions=source', inputType, '-e', script], {
      cwd: packageDirectory,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { applied: number[]; tables: string[] };
    expect(result.applied).toContain(1);
    expect(result.tables).toEqual(['claims', 'connections', 'leases', 'messages', 'participants', 'record_links', 'reference_tokens', 'schema_migrations']);
  }, 60_000);
});
