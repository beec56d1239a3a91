import { defaultServerConditions } from 'vite';
import { defineConfig } from 'vitest/config';

// One vitest run for the whole workspace. Workspace packages are read from src/ through the
// "@x/source" export condition, so no build is needed before testing.
export default defineConfig({
  ssr: {
    resolve: {
      conditions: ['@x/source', ...defaultServerConditions],
    },
  },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'scripts/test/**/*.test.ts'],
    // Type tests (`*.test-d.ts`, `expectTypeOf` and `@ts-expect-error`): vitest runs tsc over them with
    // tsconfig.typetests.json and reports each `it` as a test, so a type regression fails `pnpm check`.
    typecheck: {
      enabled: true,
      include: ['packages/*/test/**/*.test-d.ts'],
      tsconfig: './tsconfig.typetests.json',
    },
    pool: 'forks',
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
