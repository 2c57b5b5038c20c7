import { defineConfig } from 'vitest/config';

// Workspace packages expose a `source` export condition that points at src/, so tests run
// against the TypeScript sources without a build step. Vitest hands ssr.resolve.conditions to
// its Node workers as `--conditions`; `module`/`import` there would make Node pick packages'
// ESM builds from inside CommonJS (`pg` → pg-pool) or extensionless ESM (@opentelemetry/api),
// so the workers get only `source` plus Node's defaults; Vite adds import/require per importer.
export default defineConfig({
  resolve: { conditions: ['source', 'module', 'node', 'import', 'default'] },
  ssr: { resolve: { conditions: ['source', 'node', 'default'], externalConditions: ['source'] } },
});
