import { describe, expect, it } from "vitest";
import { fakeStatus } from "../../test/support/status-fixture.js";
import { clusterStatus, nodeStatus } from "./cluster-status.js";
import { nodeRows } from "./node-rows.js";

describe("nodeRows", () => {
  it("one row per node, in order, every value as text", () => {
    expect(nodeRows(fakeStatus(["standby", "active", "sealed"], { latencyMs: 4 }))).toEqual([
      {
        name: "vault-1",
        url: "http://127.0.0.1:8200",
        container: "running",
        seal: "unsealed",
        mode: "standby",
        version: "1.21.1",
        latency: "4 ms",
        error: undefined,
        active: false,
      },
      {
        name: "vault-2",
        url: "http://127.0.0.1:8201",
        container: "running",
        seal: "unsealed",
        mode: "active",
        version: "1.21.1",
        latency: "4 ms",
        error: undefined,
        active: true,
      },
      {
        name: "vault-3",
        url: "http://127.0.0.1:8202",
        container: "running",
        seal: "sealed",
        mode: "sealed",
        version: "1.21.1",
        latency: "4 ms",
        error: undefined,
        active: false,
      },
    ]);
  });

  it("what is unknown is '-'; a failed probe keeps its error", () => {
    const status = clusterStatus(
      "demo",
      new Date(0),
      [
        nodeStatus({
          name: "vault-1",
          index: 1,
          url: undefined,
          container: undefined,
          probe: undefined,
        }),
        nodeStatus({
          name: "vault-2",
          index: 2,
          url: "http://127.0.0.1:8201",
          container: { state: "running", health: "unhealthy" },
          probe: { reachable: false, error: "connect ECONNREFUSED", latencyMs: 5 },
        }),
      ],
      fakeStatus([]).dynamodb,
    );
    expect(nodeRows(status)).toEqual([
      {
        name: "vault-1",
        url: "-",
        container: "missing",
        seal: "-",
        mode: "down",
        version: "-",
        latency: "-",
        error: undefined,
        active: false,
      },
      {
        name: "vault-2",
        url: "http://127.0.0.1:8201",
        container: "running",
        seal: "-",
        mode: "down",
        version: "-",
        latency: "5 ms",
        error: "connect ECONNREFUSED",
        active: false,
      },
    ]);
  });

  it("no row is the active one while two nodes claim to be (split)", () => {
    const split = fakeStatus(["active", "active"]);
    expect(split.summary).toBe("split");
    expect(nodeRows(split).map((row) => [row.mode, row.active])).toEqual([
      ["active", false],
      ["active", false],
    ]);
  });
});
