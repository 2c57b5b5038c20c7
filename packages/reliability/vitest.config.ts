import { defineProject, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

// The chaos runs drive real HTTP emulators and (for some seeds) PostgreSQL: generous timeouts.
const soak = process.env.SOAK === '1';

const config = mergeConfig(
  shared,
  defineProject({
    test: {
      name: 'reliability',
      include: ['test/**/*.test.ts'],
      testTimeout: soak ? 3_600_000 : 180_000,
      hookTimeout: 60_000,
    },
  }),
);

// As in storage-postgres: with `import` among the worker's conditions, `pg` would load pg-pool's
// ESM build from a require() and fail; the worker only needs `source` plus the defaults.
config.ssr = { ...config.ssr, resolve: { ...config.ssr?.resolve, conditions: ['source', 'node', 'default'], externalConditions: ['source'] } };

export default config;
