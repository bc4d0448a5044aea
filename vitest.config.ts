import { defineConfig } from "vitest/config";

// Two tiers, both run by `npm test`: fast unit tests beside the code, and
// end-to-end tests in test/ that drive real Docker, Vault and DynamoDB Local.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/**/*.test.ts"],
          globalSetup: ["test/support/require-docker.ts"],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          // Two cores: one cluster-heavy file at a time keeps timings honest.
          fileParallelism: false,
        },
      },
    ],
  },
});
