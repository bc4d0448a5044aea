import { defineConfig } from "vitest/config";

// The unit tier alone, without the projects of vitest.config.ts: StrykerJS
// (npm run test:mutation) runs its mutants against this, never against the
// end-to-end tier, which needs Docker.
export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
