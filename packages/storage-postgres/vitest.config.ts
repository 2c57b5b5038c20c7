import { defineProject, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

const config = mergeConfig(
  shared,
  defineProject({
    test: {
      name: 'storage-postgres',
      include: ['test/**/*.test.ts'],
      setupFiles: ['test/setup.ts'],
      // Test files of one worker share a PGlite instance and a pool (test/backends.ts): PGlite's
      // WASM start-up costs seconds on a busy machine. Every store still gets its own schema.
      isolate: false,
      testTimeout: 30_000,
      hookTimeout: 30_000,
    },
  }),
);

// Vitest hands ssr.resolve.conditions to the worker as `node --conditions …`. With `import`
// (or `module`) among them, Node's own `require('pg-pool')` inside `pg` picks pg-pool's ESM
// build and `class BoundPool extends Pool` fails. Vite adds import/require per importer itself,
// so the worker only needs the workspace `source` condition plus the defaults.
config.ssr = { ...config.ssr, resolve: { ...config.ssr?.resolve, conditions: ['source', 'node', 'default'], externalConditions: ['source'] } };

export default config;
