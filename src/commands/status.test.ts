import { describe, expect, it } from "vitest";
import {
  type ClusterStatus,
  clusterStatus,
  type DynamoDbStatus,
  type NodeStatus,
  nodeStatus,
} from "../core/cluster-status.js";
import { formatStatus } from "./status.js";

const reachable = (standby: boolean, latencyMs: number) => ({
  reachable: true as const,
  initialized: true,
  sealed: false,
  standby,
  version: "1.21.1",
  latencyMs,
});
const active = nodeStatus({
  name: "vault-1",
  index: 1,
  url: "http://127.0.0.1:8200",
  container: { state: "running", health: "healthy" },
  probe: reachable(false, 3),
});
const standby = nodeStatus({
  name: "vault-2",
  index: 2,
  url: "http://127.0.0.1:8201",
  container: { state: "running", health: "healthy" },
  probe: reachable(true, 12),
});
const unreachable = nodeStatus({
  name: "vault-3",
  index: 3,
  url: "http://127.0.0.1:8202",
  container: { state: "running", health: "unhealthy" },
  probe: { reachable: false, error: "connect ECONNREFUSED", latencyMs: 5 },
});
const missing = nodeStatus({
  name: "vault-4",
  index: 4,
  url: undefined,
  container: undefined,
  probe: undefined,
});
const healthyTable: DynamoDbStatus = {
  container: "running",
  healthy: true,
  table: "vault-data",
  endpoint: "http://127.0.0.1:8000",
  tableStatus: "ACTIVE",
  itemCount: 10,
  lock: { identity: "vault-1", expiresAt: "2026-11-30T10:00:15.000Z" },
  error: undefined,
};
const goneTable: DynamoDbStatus = {
  container: "missing",
  healthy: false,
  table: "vault-data",
  endpoint: undefined,
  tableStatus: undefined,
  itemCount: undefined,
  lock: undefined,
  error: undefined,
};
const status = (nodes: NodeStatus[], dynamodb: DynamoDbStatus): ClusterStatus =>
  clusterStatus("demo", new Date("2026-11-30T10:00:00.000Z"), nodes, dynamodb);

const HEADER = "  NODE     URL                      CONTAINER  MODE           VERSION  LATENCY";

describe("formatStatus", () => {
  it("prints the summary, a header and one aligned line per node and for DynamoDB", () => {
    expect(formatStatus(status([active, standby], healthyTable))).toEqual([
      "project demo: healthy (vault-1 active)",
      HEADER,
      "  vault-1  http://127.0.0.1:8200    running    active         1.21.1   3 ms",
      "  vault-2  http://127.0.0.1:8201    running    standby        1.21.1   12 ms",
      "  dynamodb http://127.0.0.1:8000    running    healthy, table vault-data ACTIVE, 10 items, HA lock expires 2026-11-30T10:00:15.000Z",
    ]);
  });

  it("shows what is unknown as '-' or '?', and the probe error of a running node", () => {
    expect(formatStatus(status([active, unreachable, missing], goneTable))).toEqual([
      "project demo: degraded (vault-1 active)",
      HEADER,
      "  vault-1  http://127.0.0.1:8200    running    active         1.21.1   3 ms",
      "  vault-3  http://127.0.0.1:8202    running    down           -        5 ms  connect ECONNREFUSED",
      "  vault-4  -                        missing    down           -        -",
      "  dynamodb -                        missing    not healthy, table vault-data -, ? items",
    ]);
  });

  it("names no active node when there is none", () => {
    const lines = formatStatus(status([unreachable, missing], goneTable));
    expect(lines[0]).toBe("project demo: no-active");
  });

  it("keeps every node column under its header, whatever the values' lengths", () => {
    const lines = formatStatus(status([active, standby, unreachable, missing], healthyTable));
    const header = lines[1] ?? "";
    const starts = ["URL", "CONTAINER", "MODE", "VERSION", "LATENCY"].map((name) =>
      header.indexOf(name),
    );
    expect(starts).toEqual([11, 36, 47, 62, 71]);
    for (const line of lines.slice(2, -1)) {
      for (const start of starts) expect(line[start - 1]).toBe(" ");
      for (const start of starts) expect(line[start]).not.toBe(" ");
    }
  });
});

describe("formatStatus with a load balancer", () => {
  it("adds a balancer row naming its address and whether it reaches the active node", () => {
    const base = status([active, standby], healthyTable);
    const lines = formatStatus({
      ...base,
      loadBalancer: { url: "https://127.0.0.1:8100", container: "running", reachesActive: true },
    });
    expect(lines.at(-1)).toBe(
      "  balancer https://127.0.0.1:8100   running    reaches the active node",
    );
    expect(formatStatus(base).some((line) => line.includes("balancer"))).toBe(false);
  });
});
