import { afterEach, describe, expect, it } from "vitest";
import type { ClusterStatus } from "../../src/core/cluster-status.js";
import { type CliCluster, cliCluster } from "../support/cli-cluster.js";

let cluster: CliCluster | undefined;

describe.each([
  [1, 20200, 20000],
  [5, 20300, 20100],
])("%i node(s)", (nodes, vault, dynamodb) => {
  afterEach(async () => {
    await cluster?.cleanup();
  });

  it("come up with exactly one active node and the rest standby", async () => {
    cluster = await cliCluster(`vha-e2e-n${nodes}`, { vault, dynamodb }, [
      "--nodes",
      String(nodes),
      "--in-memory",
    ]);
    const up = await cluster.run(["up"]);
    expect(up.exitCode, up.stderr).toBe(0);
    const status = JSON.parse((await cluster.run(["status", "--json"])).stdout) as ClusterStatus;
    expect(status.nodes).toHaveLength(nodes);
    expect(status.nodes.filter((node) => node.mode === "active")).toHaveLength(1);
    expect(status.nodes.filter((node) => node.mode === "standby")).toHaveLength(nodes - 1);
  });
});
