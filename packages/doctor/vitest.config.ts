import { defineProject, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

const config = mergeConfig(
  shared,
  defineProject({
    test: { name: 'doctor', include: ['test/**/*.test.ts'], globalSetup: ['./test/support/global-setup.ts'], testTimeout: 30_000, hookTimeout: 30_000 },
  }),
);

// As in storage-postgres: with `import`/`module` among the worker's --conditions, Node's own
// require('pg-pool') inside `pg` picks pg-pool's ESM build and `class BoundPool extends Pool`
// fails. The worker needs only the workspace `source` condition plus the defaults.
config.ssr = { ...config.ssr, resolve: { ...config.ssr?.resolve, conditions: ['source', 'node', 'default'], externalConditions: ['source'] } };

export default config;
