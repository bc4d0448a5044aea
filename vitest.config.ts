import { defineConfig } from "vitest/config";

// Two tiers, both run by `npm test`: fast unit tests beside the code, and
// end-to-end tests in test/ that drive real Docker, Vault and DynamoDB Local.
export default defineConfig({
  // The test bed runs the suite as a non-root user who can read the checkout
  // but not write into it (test/bed/as-test-user.sh): Vite's cache goes to
  // that user's home instead of node_modules/.vite, and the scripts load this
  // file with `--configLoader runner`, which writes no bundled copy of it
  // into node_modules/.vite-temp.
  ...(process.env.VAULT_HA_TEST_CACHE_DIR ? { cacheDir: process.env.VAULT_HA_TEST_CACHE_DIR } : {}),
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
          // A clean room per test file: its own HOME, XDG folders and working
          // folder, and none of the caller's VAULT_*/AWS_* variables.
          setupFiles: ["test/support/clean-room.ts"],
          testTimeout: 600_000,
          hookTimeout: 600_000,
          // Two cores: one cluster-heavy file at a time keeps timings honest.
          fileParallelism: false,
        },
      },
    ],
  },
});
