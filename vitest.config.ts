import { defineConfig, mergeConfig } from 'vitest/config';
import shared from './vitest.shared.ts';

export default mergeConfig(
  shared,
  defineConfig({
    test: {
      projects: ['packages/*', 'examples/*'],
      // The JSON report feeds the plain closing line CI prints (scripts/summarize-tests.mjs).
      reporters: ['default', ['json', { outputFile: 'test-output/vitest-results.json' }]],
    },
  }),
);
