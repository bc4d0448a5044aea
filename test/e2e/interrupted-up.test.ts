import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type CliCluster, cliCluster } from "../support/cli-cluster.js";
import { projectResources } from "../support/docker.js";
import { expectOneActive, nodeTruth } from "../support/oracle.js";
import { eventually } from "../support/vault-http.js";

let cluster: CliCluster;

function startUp(): {
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
} {
  const child = cluster.spawn(["up"]);

  return {
    exit: new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal }))),
    kill: (signal) => child.kill(signal),
  };
}

describe("up under pressure", () => {
  beforeAll(async () => {
    cluster = await cliCluster("race");
  });
  afterAll(async () => {
    await cluster.cleanup();
  });

  it("a second up for the same project while one runs is refused clearly (exit 5)", async () => {
    const first = startUp();
    // Wait for the observable state, not a fixed time: the lock file exists.
    await eventually("the first up to hold its lock", 60_000, async () =>
      existsSync(path.join(cluster.stateDir, cluster.project, "up.lock")),
    );
    const second = await cluster.run(["up"]);
    expect(second.exitCode).toBe(5);
    expect(second.stderr).toMatch(
      new RegExp(
        `another vault-ha up, down or reset for project ${cluster.project} is running \\(process \\d+`,
      ),
    );
    expect((await first.exit).code).toBe(0);
    await expectOneActive(cluster.urls(3));
  });

  it("an up interrupted part-way is completed by the next up", async () => {
    const reset = await cluster.run(["reset", "--yes"]);
    expect(reset.exitCode, reset.stderr).toBe(0);
    const interrupted = startUp();
    // Interrupt once the cluster's containers exist: a partial state, seen
    // through the Docker API, is what the next up has to complete.
    await eventually("containers of the interrupted up", 120_000, async () => {
      return (await projectResources(cluster.project)).containers.length > 0;
    });
    interrupted.kill("SIGINT");
    const { code, signal } = await interrupted.exit;
    // Interrupted: ended by the signal (or the documented 130), neither
    // finished nor crashed with a bug's exit 1.
    expect(code === 130 || signal === "SIGINT", `exit ${code} signal ${signal}`).toBe(true);
    const partial = await Promise.all(cluster.urls(3).map(nodeTruth));
    expect(partial.filter((node) => node.health === 200)).not.toHaveLength(3);

    const again = await cluster.run(["up"]);
    expect(again.exitCode, again.stderr).toBe(0);
    await expectOneActive(cluster.urls(3));
  });
});
