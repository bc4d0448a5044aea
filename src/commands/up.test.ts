import { describe, expect, it } from "vitest";
import {
  type ClusterStatus,
  clusterStatus,
  type NodeMode,
  nodeStatus,
} from "../core/cluster-status.js";
import { nodeTable } from "./up.js";

const probe = (mode: NodeMode) =>
  mode === "down"
    ? undefined
    : {
        reachable: true as const,
        initialized: mode !== "uninitialized",
        sealed: mode === "sealed" || mode === "uninitialized",
        standby: mode === "standby",
        version: "1.21.1",
        latencyMs: 2,
      };

/** vault-1..N with these modes; a "down" node has no container and no URL. */
const cluster = (...modes: NodeMode[]): ClusterStatus =>
  clusterStatus(
    "demo",
    new Date(0),
    modes.map((mode, offset) =>
      nodeStatus({
        name: `vault-${offset + 1}`,
        index: offset + 1,
        url: mode === "down" ? undefined : `http://127.0.0.1:${8200 + offset}`,
        container: mode === "down" ? undefined : { state: "running", health: undefined },
        probe: probe(mode),
      }),
    ),
    {
      container: "running",
      healthy: true,
      table: "vault-data",
      endpoint: "http://127.0.0.1:8000",
      tableStatus: "ACTIVE",
      itemCount: 3,
      lock: undefined,
      error: undefined,
    },
  );

describe("nodeTable", () => {
  it("one aligned line per node, the active one marked", () => {
    expect(nodeTable(cluster("standby", "active", "sealed", "down"))).toEqual([
      "  vault-1  http://127.0.0.1:8200    standby",
      "  vault-2  http://127.0.0.1:8201    active  ◀ active",
      "  vault-3  http://127.0.0.1:8202    sealed",
      "  vault-4  -                        down",
    ]);
  });

  it("marks no node when two claim to be active (split)", () => {
    const split = cluster("active", "active");
    expect(split.summary).toBe("split");
    expect(nodeTable(split)).toEqual([
      "  vault-1  http://127.0.0.1:8200    active",
      "  vault-2  http://127.0.0.1:8201    active",
    ]);
  });

  it("is empty for a cluster without nodes", () => {
    expect(nodeTable({ ...cluster("active"), nodes: [] })).toEqual([]);
  });
});
