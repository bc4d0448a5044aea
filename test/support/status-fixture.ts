import {
  type ClusterStatus,
  clusterStatus,
  type DynamoDbStatus,
  type NodeMode,
  nodeStatus,
} from "../../src/core/cluster-status.js";

/**
 * A status snapshot as the cluster service would build it, from one HA mode
 * per node (vault-1..N), for tests of everything that reads snapshots.
 */
export function fakeStatus(
  modes: readonly NodeMode[],
  options: {
    at?: Date;
    project?: string;
    latencyMs?: number;
    dynamodb?: Partial<DynamoDbStatus>;
  } = {},
): ClusterStatus {
  const nodes = modes.map((mode, offset) =>
    nodeStatus({
      name: `vault-${offset + 1}`,
      index: offset + 1,
      url: `http://127.0.0.1:${8200 + offset}`,
      container: { state: mode === "down" ? "exited" : "running", health: undefined },
      probe:
        mode === "down"
          ? undefined
          : {
              reachable: true,
              initialized: mode !== "uninitialized",
              sealed: mode === "sealed" || mode === "uninitialized",
              standby: mode === "standby",
              version: "1.21.1",
              latencyMs: options.latencyMs ?? 3,
            },
    }),
  );
  return clusterStatus(options.project ?? "p", options.at ?? new Date(0), nodes, {
    container: "running",
    healthy: true,
    table: "vault-data",
    endpoint: undefined,
    tableStatus: undefined,
    itemCount: undefined,
    lock: undefined,
    error: undefined,
    ...options.dynamodb,
  });
}
