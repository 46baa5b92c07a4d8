import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Kafka broker for the broker tests (test/helpers/kafka.ts): reuses or starts one, or marks them skipped.
    globalSetup: ['test/helpers/kafka-global-setup.ts'],
    reporters: ['default'],
  },
});
