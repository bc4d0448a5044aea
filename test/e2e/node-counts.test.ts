import { afterEach, describe, expect, it } from "vitest";
import type { ClusterStatus } from "../../src/core/cluster-status.js";
import { type CliCluster, cliCluster } from "../support/cli-cluster.js";
import { expectOneActive } from "../support/oracle.js";

let cluster: CliCluster | undefined;

describe.each([1, 5])("%i node(s)", (nodes) => {
  afterEach(async () => {
    await cluster?.cleanup();
    cluster = undefined;
  });

  it("come up with exactly one active node and the rest standby (raw sys/health)", async () => {
    cluster = await cliCluster(`n${nodes}`, ["--nodes", String(nodes), "--in-memory"], { nodes });
    const up = await cluster.run(["up"]);
    expect(up.exitCode, up.stderr).toBe(0);
    const active = await expectOneActive(cluster.urls(nodes), {
      endpoint: `http://127.0.0.1:${cluster.dynamodbPort}`,
    });
    const status = JSON.parse((await cluster.run(["status", "--json"])).stdout) as ClusterStatus;
    expect(status.nodes).toHaveLength(nodes);
    expect(status.active).toBe(`vault-${active + 1}`);
  });
});
