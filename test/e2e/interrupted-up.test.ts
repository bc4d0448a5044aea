import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClusterStatus } from "../../src/core/cluster-status.js";
import { CLI } from "../support/cli.js";
import { type CliCluster, cliCluster } from "../support/cli-cluster.js";
import { eventually } from "../support/vault-http.js";

let cluster: CliCluster;

function startUp(): {
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
} {
  const child = spawn(
    process.execPath,
    [
      CLI,
      "up",
      "--project",
      cluster.project,
      "--vault-port",
      String(cluster.vaultPort),
      "--dynamodb-port",
      String(cluster.dynamodbPort),
    ],
    {
      cwd: cluster.cwd,
      env: { ...process.env, VAULT_HA_STATE_DIR: cluster.stateDir, NO_COLOR: "1" },
      stdio: "ignore",
    },
  );
  return {
    exit: new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal }))),
    kill: (signal) => child.kill(signal),
  };
}

describe("up under pressure", () => {
  beforeAll(async () => {
    cluster = await cliCluster("vha-e2e-race", { vault: 22200, dynamodb: 22000 });
  });
  afterAll(async () => {
    await cluster.cleanup();
  });

  it("a second up for the same project while one runs is refused clearly (exit 5)", async () => {
    const first = startUp();
    // Give the first one time to take the lock (it is inside compose up then).
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const second = await cluster.run(["up"]);
    expect(second.exitCode).toBe(5);
    expect(second.stderr).toMatch(
      /another vault-ha up for project vha-e2e-race is running \(process \d+\)/,
    );
    expect((await first.exit).code).toBe(0);
  });

  it("an up interrupted part-way is completed by the next up", async () => {
    const reset = await cluster.run(["reset", "--yes"]);
    expect(reset.exitCode, reset.stderr).toBe(0);
    const interrupted = startUp();
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    interrupted.kill("SIGINT");
    const { code, signal } = await interrupted.exit;
    expect(code === 0 && signal === null).toBe(false);

    const again = await cluster.run(["up"]);
    expect(again.exitCode, again.stderr).toBe(0);
    const status = await eventually("a healthy cluster", 30_000, async () => {
      const current = JSON.parse((await cluster.run(["status", "--json"])).stdout) as ClusterStatus;
      return current.summary === "healthy" ? current : undefined;
    });
    expect(status.nodes.filter((node) => node.mode === "active")).toHaveLength(1);
  });
});
