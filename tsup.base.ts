import type { Options } from 'tsup';

/**
 * The one build every published package shares: ESM + CJS + .d.ts/.d.cts from src/index.ts.
 * Dependencies and peer dependencies stay external (tsup's default), so workspace packages
 * are imported from their own published builds.
 */
export const packageBuild: Options = {
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  treeshake: true,
  splitting: false,
};
