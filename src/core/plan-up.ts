import type { ClusterStatus } from "./cluster-status.js";

/** What `up` still has to do, given a snapshot and whether keys are stored. */
export interface UpPlan {
  /** Run `docker compose up` (containers missing, stopped or unhealthy, or the file changed). */
  readonly start: boolean;
  readonly initialize: boolean;
  /** Nodes to unseal with the stored keys. */
  readonly unseal: readonly string[];
  /** An initialised cluster without keys: nothing vault-ha can do but say so. */
  readonly keysMissing: boolean;
  /** Keys are stored but the cluster is new (its data was wiped): set them aside. */
  readonly staleKeys: boolean;
}

export function planUp(
  status: ClusterStatus,
  options: { readonly keysStored: boolean; readonly composeFileChanged: boolean },
): UpPlan {
  const allRunning =
    status.nodes.every((node) => node.container === "running") &&
    status.dynamodb.container === "running" &&
    status.dynamodb.healthy;
  const start = options.composeFileChanged || !allRunning;
  const anyInitialized = status.nodes.some((node) => node.initialized === true);
  const initialize = !anyInitialized && status.nodes.some((node) => node.mode === "uninitialized");
  const keysMissing = anyInitialized && !options.keysStored;
  const staleKeys = initialize && options.keysStored;
  // After a restart every node may be down for a moment: unsealing is decided
  // again after start; here only nodes known to be sealed count.
  const unseal = status.nodes.filter((node) => node.mode === "sealed").map((node) => node.name);
  return { start, initialize, unseal, keysMissing, staleKeys };
}
