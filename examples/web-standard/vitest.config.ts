import { defineProject, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

const config = mergeConfig(
  shared,
  defineProject({
    test: { name: 'web-standard', include: ['test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
  }),
);

// As in express-crm: with `import`/`module` among the worker's --conditions, `pg`'s own
// require('pg-pool') gets pg-pool's ESM build and fails. The worker needs `source` + defaults.
config.ssr = { ...config.ssr, resolve: { ...config.ssr?.resolve, conditions: ['source', 'node', 'default'], externalConditions: ['source'] } };

export default config;
