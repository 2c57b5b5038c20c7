import { defineProject, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

const config = mergeConfig(
  shared,
  defineProject({
    test: { name: 'queue-bullmq', include: ['test/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 30_000 },
  }),
);

// The scale-out tests load @threadlink/storage-postgres, i.e. `pg`. Vitest hands
// ssr.resolve.conditions to the worker as `node --conditions …`; with `import`/`module` among them,
// Node's own `require('pg-pool')` inside `pg` picks pg-pool's ESM build and `class BoundPool
// extends Pool` fails (same fix as packages/storage-postgres/vitest.config.ts).
config.ssr = { ...config.ssr, resolve: { ...config.ssr?.resolve, conditions: ['source', 'node', 'default'], externalConditions: ['source'] } };

export default config;
