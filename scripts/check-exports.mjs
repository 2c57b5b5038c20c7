// Proves the published shape of every package: publint on each manifest, then the built
// output is loaded from a clean process both as ESM (import) and as CJS (require), and attw checks
// that the type declarations of every entry match that output.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const packages = readdirSync(join(root, 'packages')).map((name) => join(root, 'packages', name));
let failures = 0;
// Entries whose import registers vitest suites (the conformance suites): only checked to resolve.
const REGISTERS_SUITES = new Set(['./conformance', './provider-conformance']);
for (const dir of packages) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  try {
    execFileSync('pnpm', ['exec', 'publint', '--strict'], { cwd: dir, stdio: 'pipe' });
  } catch (error) {
    failures += 1;
    console.error(`publint failed for ${manifest.name}:\n${error.stdout}${error.stderr}`);
    continue;
  }
  for (const subpath of Object.keys(manifest.exports).filter((key) => key !== './package.json')) {
    const specifier = subpath === '.' ? manifest.name : `${manifest.name}/${subpath.slice(2)}`;
    if (REGISTERS_SUITES.has(subpath)) {
      // Importing it registers vitest suites, which only works inside a vitest run: check it resolves.
      execFileSync(process.execPath, ['--input-type=module', '-e', `import.meta.resolve(${JSON.stringify(specifier)})`], { cwd: dir, stdio: 'pipe' });
      continue;
    }
    const esm = `import(${JSON.stringify(specifier)}).then((m) => { if (Object.keys(m).length === 0) throw new Error('no exports'); })`;
    const cjs = `const m = require(${JSON.stringify(specifier)}); if (Object.keys(m).length === 0) throw new Error('no exports');`;
    const conditions = manifest.exports[subpath];
    // An entry may be ESM-only on purpose (the conformance suite needs vitest, which is ESM-only).
    const kinds = [['esm', esm, '--input-type=module'], ...(conditions.require ? [['cjs', cjs, '--input-type=commonjs']] : [])];
    for (const [kind, code, flag] of kinds) {
      try {
        // Resolved from the package's own folder, as a consumer of its dist would (no `source` condition).
        execFileSync(process.execPath, [flag, '-e', kind === 'esm' ? `await ${code}` : code], { cwd: dir, stdio: 'pipe' });
      } catch (error) {
        failures += 1;
        console.error(`${specifier} failed to load as ${kind}:\n${error.stderr}`);
      }
    }
  }
  if (!manifest.private) {
    // Are the types wrong? (attw, on the packed tarball): each entry's declarations must match its
    // JavaScript under node16 ESM and CJS and bundlers. node10 is not checked: it cannot read
    // `exports` subpaths, and every package requires Node 20. ESM-only entries are checked as such.
    const entries = Object.keys(manifest.exports).filter((key) => key !== './package.json');
    const dual = entries.filter((key) => manifest.exports[key].require);
    const esmOnly = entries.filter((key) => !manifest.exports[key].require);
    for (const [profile, list] of [
      ['node16', dual],
      ['esm-only', esmOnly],
    ]) {
      if (list.length === 0) continue;
      try {
        execFileSync('pnpm', ['exec', 'attw', '--pack', dir, '--profile', profile, '--format', 'ascii', '--entrypoints', ...list], {
          cwd: root,
          stdio: 'pipe',
        });
      } catch (error) {
        failures += 1;
        console.error(`attw (${profile}) failed for ${manifest.name}:\n${error.stdout}${error.stderr}`);
      }
    }
  }
  console.log(`ok ${manifest.name}`);
}
if (failures > 0) {
  console.error(`${failures} export check(s) failed`);
  process.exit(1);
}
