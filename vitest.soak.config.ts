import { defineConfig } from 'vitest/config';

// `npm run soak` (scripts/soak.sh): the ten-minute soak of issue 13, on a PostgreSQL cluster of its own.
export default defineConfig({
  test: {
    include: ['test/soak/**/*.soak.ts'],
    fileParallelism: false,
    testTimeout: 3_600_000,
    hookTimeout: 300_000,
  },
});
