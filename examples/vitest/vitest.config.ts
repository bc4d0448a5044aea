import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["vault.test.ts"],
    globalSetup: ["./global-setup.ts"],
    // Starting the cluster takes seconds, not milliseconds.
    hookTimeout: 300_000,
  },
});
