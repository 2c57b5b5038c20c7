// The README cannot drift from the code: its quick start is readme-example.test.ts verbatim (which
// runs it; it sits in packages/integration because it needs the Gmail and Outlook adapters, which
// depend on this package), and it names every export of every entry in package.json `exports`.
import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { expect, it } from 'vitest';

const packageDir = new URL('../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, packageDir), 'utf8');
const readme = read('README.md');

/** The first ```ts block of a `## ` section. */
function codeBlockOf(heading: string): string | undefined {
  const section = readme.split(/^## /m).find((part) => part.startsWith(`${heading}\n`));
  return /```ts\n([\s\S]*?)```/.exec(section ?? '')?.[1];
}

/** Every name a published entry exports, types included, read by the TypeScript checker. */
function exportedNames(): Map<string, string[]> {
  const manifest = JSON.parse(read('package.json')) as { exports: Record<string, { source?: string } | string> };
  const entries = Object.entries(manifest.exports).flatMap(([subpath, target]) =>
    typeof target === 'object' && target.source ? [[subpath, new URL(target.source, packageDir).pathname] as const] : [],
  );
  const program = ts.createProgram(
    entries.map(([, file]) => file),
    // Resolving exports needs no lib and no @types: leaving them out keeps this to a couple of seconds.
    { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, customConditions: ['source'], noLib: true, types: [], noEmit: true },
  );
  const checker = program.getTypeChecker();
  return new Map(
    entries.map(([subpath, file]) => {
      const module = checker.getSymbolAtLocation(program.getSourceFile(file)!)!;
      return [subpath, checker.getExportsOfModule(module).map((symbol) => symbol.name)];
    }),
  );
}

it('shows packages/integration/test/testing/readme-example.test.ts verbatim as its quick start', () => {
  const example = read('../integration/test/testing/readme-example.test.ts').replace(/^(\/\/.*\n)+/, '');
  expect(codeBlockOf('Quick start')).toBe(example);
});

it('names every export of every entry', () => {
  const entries = exportedNames();
  expect([...entries.keys()].sort()).toEqual(['.', './child-host', './conformance', './provider-conformance']);
  expect(entries.get('./child-host')).toContain('childHostConfig');
  expect(entries.get('.')).toContain('startGmailEmulator');
  expect(entries.get('./conformance')).toContain('runStoreConformance');
  expect(entries.get('./conformance')).toContain('runQueueConformance');
  expect(entries.get('./provider-conformance')).toContain('runProviderConformance');
  const undocumented = [...entries].flatMap(([subpath, names]) =>
    names.filter((name) => !new RegExp(`\`${name}(?![A-Za-z0-9_$])`).test(readme)).map((name) => `${subpath}: ${name}`),
  );
  expect(undocumented).toEqual([]);
});
