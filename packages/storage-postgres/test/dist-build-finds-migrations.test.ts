// The published build (tsup → dist/index.js and dist/index.cjs) must find the shipped SQL
// migrations at run time, from ESM and from CommonJS alike, and the package must ship them.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const packageDirectory = fileURLToPath(new URL('..', import.meta.url));

// One process loads both builds (PGlite's WASM start-up is the slow part) and migrates a schema
// through each, on one shared in-memory database.
const probe = `
  import { createRequire } from 'node:module';
  import { PGlite } from '@electric-sql/pglite';
  import * as esm from './dist/index.js';
  const cjs = createRequire(import.meta.url)('./dist/index.cjs');
  const pglite = new PGlite();
  const results = {};
  for (const [format, build] of Object.entries({ esm, cjs })) {
    const store = build.pgliteStore({ pglite, schema: format + '_build' });
    const report = await store.migrate();
    const tables = await store.sql.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name', [store.schema]);
    results[format] = { applied: report.applied, tables: tables.rows.map((row) => row.table_name) };
  }
  await pglite.close();
  console.log(JSON.stringify(results));
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

  it('applies the shipped migrations from the ESM and the CommonJS build', async () => {
    // @threadlink/core is taken from its sources (tsx + the `source` condition) so only this
    // package's build is under test; pg and PGlite load as published.
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--conditions=source', '--input-type=module', '-e', probe], {
      cwd: packageDirectory,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    const results = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, { applied: number[]; tables: string[] }>;
    const expected = {
      applied: [1, 2, 3, 4, 5],
      tables: [
        'claims',
        'connections',
        'ingestion_policies',
        'labels',
        'leases',
        'messages',
        'organizations',
        'participants',
        'record_links',
        'reference_tokens',
        'schema_migrations',
      ],
    };
    expect(results).toEqual({ esm: expected, cjs: expected });
  }, 60_000);
});
