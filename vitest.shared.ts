import { defineConfig } from 'vitest/config';

// Workspace packages expose a `source` export condition that points at src/,
// so tests run against the TypeScript sources without a build step.
const conditions = ['source', 'module', 'node', 'import', 'default'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: ['source'] } },
});
