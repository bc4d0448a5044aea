import path from "node:path";
import { execa } from "execa";
import { expect, it } from "vitest";
import { PACKAGE_ROOT } from "../../src/package-paths.js";

// The benchmark is not a timed test: no figure is asserted. It runs once, with
// a single quick iteration, so the script cannot rot.
// Its own budget: the bench child's 900 s must end before the test's, or a
// slow run would leave the child driving clusters into the next file.
it("npm run bench -- --quick runs every section and prints the table", {
  timeout: 960_000,
}, async () => {
  const run = await execa(
    process.execPath,
    [path.join(PACKAGE_ROOT, "bench", "run.mjs"), "--quick"],
    {
      cwd: PACKAGE_ROOT,
      reject: false,
      all: true,
      timeout: 900_000,
    },
  );
  expect(run.exitCode, run.all).toBe(0);
  const table = run.stdout;
  expect(table).toMatch(
    /^\| benchmark +\| runs \| min +\| median +\| max +\| baseline median +\| ratio +\|$/m,
  );
  for (const name of [
    "vault-ha --help",
    "vault-ha render",
    "cold up, 1 node (before: always --build)",
    "cold up, 1 node ",
    "warm up (already running)",
    "status --json, 3 nodes, healthy",
    "status --json, 3 nodes, one frozen",
    "reset (3 nodes)",
    "failover downtime, docker kill",
    "failover downtime, docker stop",
    "failover through the balancer, docker stop",
    "failover through the balancer, docker kill",
    "startCluster, 1 node (ephemeral)",
    "startCluster, 3 nodes (ephemeral)",
    "floor: DynamoDB Local alone, run to first answer",
    "startCluster, reuse (healthy cluster handed over)",
    "idle 3-node cluster, machine CPU",
    "dashboard idle CPU (1 s refresh)",
  ]) {
    expect(table).toContain(`| ${name}`);
  }
});
