import type { ClusterStatus, NodeMode } from "./cluster-status.js";

/**
 * One Vault node as every node table shows it (`up`, `status`, the
 * dashboard): each value already text, "-" where it is unknown. The views
 * choose columns, widths and markers; none of them derives a value itself.
 */
export interface NodeRow {
  readonly name: string;
  /** The node's API from the host, or "-". */
  readonly url: string;
  /** running, exited, ..., or missing. */
  readonly container: string;
  readonly seal: "sealed" | "unsealed" | "-";
  readonly mode: NodeMode;
  readonly version: string;
  /** "3 ms", or "-" when the node was not probed. */
  readonly latency: string;
  /** Why the probe failed, if it did. */
  readonly error: string | undefined;
  /** The cluster's one active node; no node is while two claim to be (split). */
  readonly active: boolean;
}

/** The rows of a snapshot's node table, in the snapshot's order. */
export function nodeRows(status: ClusterStatus): NodeRow[] {
  return status.nodes.map((node) => ({
    name: node.name,
    url: node.url ?? "-",
    container: node.container,
    seal: node.sealed === undefined ? "-" : node.sealed ? "sealed" : "unsealed",
    mode: node.mode,
    version: node.version ?? "-",
    latency: node.latencyMs === undefined ? "-" : `${node.latencyMs} ms`,
    error: node.error,
    active: node.name === status.active,
  }));
}
