import { defineProject, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

const config = mergeConfig(
  shared,
  defineProject({
    // The browser test drives a real Chromium through whole OAuth + push + reply flows.
    test: { name: 'express-crm', include: ['test/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 60_000 },
  }),
);

// As in storage-postgres: with `import`/`module` among the worker's --conditions, `pg`'s own
// require('pg-pool') gets pg-pool's ESM build and fails. The worker needs `source` + defaults.
config.ssr = { ...config.ssr, resolve: { ...config.ssr?.resolve, conditions: ['source', 'node', 'default'], externalConditions: ['source'] } };

export default config;
