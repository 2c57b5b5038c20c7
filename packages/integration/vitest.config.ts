import { defineProject, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

export default mergeConfig(
  shared,
  defineProject({
    test: { name: 'integration', include: ['test/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 30_000 },
  }),
);
