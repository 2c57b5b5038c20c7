// One build recipe for every package: run from a package folder as
// `tsup --config ../../tsup.config.ts`. Entries are read from the package's own
// `tsup` field (default: src/index.ts), so each package stays a thin manifest.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'tsup';

const manifest = JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as {
  tsup?: { entry?: string[] };
};

export default defineConfig({
  entry: manifest.tsup?.entry ?? ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  splitting: false,
  shims: true,
  tsconfig: join(process.cwd(), 'tsconfig.json'),
});
