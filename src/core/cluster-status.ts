/**
 * The status snapshot: a pure merge of what Docker, each Vault node and
 * DynamoDB said at one moment. Everything that shows or decides cluster state
 * (status --json, up's plan, the dashboard's events) reads this shape.
 */

export type NodeMode = "active" | "standby" | "sealed" | "uninitialized" | "down";

/** What one Vault node's probe returned. */
export type VaultProbe =
  | {
      readonly reachable: true;
      readonly initialized: boolean;
      readonly sealed: boolean;
      readonly standby: boolean;
      readonly version: string | undefined;
      readonly latencyMs: number;
    }
  | { readonly reachable: false; readonly error: string; readonly latencyMs: number };

/** A container's state as the engine reports it, or "missing". */
export interface ContainerState {
  readonly state: string;
  readonly health: string | undefined;
  /** For scripts that `docker exec` into a node without guessing Compose's naming. */
  readonly name?: string;
  readonly id?: string;
}

export interface NodeStatus {
  readonly name: string;
  readonly index: number;
  /** The node's API from the host, e.g. http://127.0.0.1:8200. */
  readonly url: string | undefined;
  /** running, exited, ..., or missing. */
  readonly container: string;
  readonly containerHealth: string | undefined;
  /** The container's name and id, e.g. for `docker exec`; undefined when it is missing. */
  readonly containerName: string | undefined;
  readonly containerId: string | undefined;
  readonly initialized: boolean | undefined;
  readonly sealed: boolean | undefined;
  readonly mode: NodeMode;
  readonly version: string | undefined;
  readonly latencyMs: number | undefined;
  readonly error: string | undefined;
}

export interface DynamoDbStatus {
  readonly container: string;
  readonly healthy: boolean;
  readonly table: string;
  /** From the host, e.g. http://127.0.0.1:8000. */
  readonly endpoint: string | undefined;
  readonly tableStatus: string | undefined;
  readonly itemCount: number | undefined;
  readonly lock: { readonly identity: string; readonly expiresAt: string } | undefined;
  readonly error: string | undefined;
}

export interface ClusterStatus {
  readonly project: string;
  readonly takenAt: string;
  readonly nodes: readonly NodeStatus[];
  readonly dynamodb: DynamoDbStatus;
  /** Name of the one active node, if exactly one is active. */
  readonly active: string | undefined;
  readonly summary: ClusterSummary;
  /** The load balancer, when loadBalancer.enabled. */
  readonly loadBalancer?: LoadBalancerStatus;
}

export interface LoadBalancerStatus {
  /** Its one address from the host. */
  readonly url: string | undefined;
  readonly container: string;
  /** sys/health through it answered 200: it sends traffic to the active node. */
  readonly reachesActive: boolean;
}

export type ClusterSummary =
  /** Exactly one active node and every other node a standby. */
  | "healthy"
  /** One active node; some nodes sealed or down. */
  | "degraded"
  /** No active node (sealed, down, or a failover in progress). */
  | "no-active"
  /** More than one node claims to be active. */
  | "split"
  | "uninitialized"
  /** No container of the project exists. */
  | "absent";

export function nodeMode(container: string, probe: VaultProbe | undefined): NodeMode {
  if (container !== "running" || !probe || !probe.reachable) return "down";
  if (!probe.initialized) return "uninitialized";
  if (probe.sealed) return "sealed";
  return probe.standby ? "standby" : "active";
}

export interface NodeInput {
  readonly name: string;
  readonly index: number;
  readonly url: string | undefined;
  readonly container: ContainerState | undefined;
  readonly probe: VaultProbe | undefined;
}

export function nodeStatus(input: NodeInput): NodeStatus {
  const container = input.container?.state ?? "missing";
  const probe = input.probe;
  const reachable = probe?.reachable === true ? probe : undefined;
  return {
    name: input.name,
    index: input.index,
    url: input.url,
    container,
    containerHealth: input.container?.health,
    containerName: input.container?.name,
    containerId: input.container?.id,
    initialized: reachable?.initialized,
    sealed: reachable?.sealed,
    mode: nodeMode(container, probe),
    version: reachable?.version,
    latencyMs: probe?.latencyMs,
    error: probe && !probe.reachable && container === "running" ? probe.error : undefined,
  };
}

export function summarize(nodes: readonly NodeStatus[]): ClusterSummary {
  if (nodes.every((node) => node.container === "missing")) return "absent";
  const active = nodes.filter((node) => node.mode === "active").length;
  if (active > 1) return "split";
  if (active === 1)
    return nodes.every((node) => node.mode === "active" || node.mode === "standby")
      ? "healthy"
      : "degraded";
  if (
    nodes.some((node) => node.mode === "uninitialized") &&
    !nodes.some((node) => node.initialized === true)
  ) {
    return "uninitialized";
  }
  return "no-active";
}

export function clusterStatus(
  project: string,
  takenAt: Date,
  nodes: readonly NodeStatus[],
  dynamodb: DynamoDbStatus,
): ClusterStatus {
  const active = nodes.filter((node) => node.mode === "active");
  return {
    project,
    takenAt: takenAt.toISOString(),
    nodes,
    dynamodb,
    active: active.length === 1 ? active[0]?.name : undefined,
    summary: summarize(nodes),
  };
}

/**
 * Whole seconds until the HA lock item expires, as of the snapshot (negative
 * once expired). The holder renews it every few seconds, so a count that runs
 * past zero means the holder is gone and a standby may take the lock.
 */
export function lockSecondsLeft(status: ClusterStatus): number | undefined {
  const lock = status.dynamodb.lock;
  if (!lock) return undefined;
  return Math.round((Date.parse(lock.expiresAt) - Date.parse(status.takenAt)) / 1000);
}
