import type { ClusterStatus, NodeMode } from "./cluster-status.js";

export type HaEventKind =
  | "watching"
  | "node-down"
  | "node-up"
  | "sealed"
  | "unsealed"
  | "no-active"
  | "failover"
  | "leader-change"
  | "split"
  | "lock"
  | "storage"
  | "action"
  | "action-failed";

export interface HaEvent {
  /** ISO time of the snapshot (or action) that showed it. */
  readonly at: string;
  readonly kind: HaEventKind;
  readonly node?: string;
  readonly message: string;
  /** For failovers: how long no node was active, between snapshots. */
  readonly gapMs?: number;
  /** Set by the event log: a stable identity for a line on screen. */
  readonly id?: number;
}

/** What derivation remembers between snapshots. */
export interface EventState {
  readonly previous: ClusterStatus | undefined;
  /** takenAt of the first snapshot without an active node, while there is none. */
  readonly noActiveSince: string | undefined;
  /** The last node seen active. */
  readonly lastActive: string | undefined;
  /** The HA lock item's identity when last read (a poll may fail to read it). */
  readonly lockIdentity: string | undefined;
}

export const initialEventState: EventState = {
  previous: undefined,
  noActiveSince: undefined,
  lastActive: undefined,
  lockIdentity: undefined,
};

const unsealedModes: readonly NodeMode[] = ["active", "standby"];
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const short = (identity: string) => `${identity.slice(0, 8)}…`;

/**
 * Events from one snapshot to the next. Pure: same inputs, same events. The
 * failover gap runs from the first snapshot without an active node to the
 * first with one, so its resolution is the poll interval.
 */
export function deriveEvents(
  state: EventState,
  next: ClusterStatus,
): { state: EventState; events: HaEvent[] } {
  const at = next.takenAt;
  const events: HaEvent[] = [];
  const previous = state.previous;

  if (!previous) {
    events.push({
      at,
      kind: "watching",
      message: `watching ${next.project}: ${next.active ? `${next.active} active` : `no active node (${next.summary})`}`,
    });
    return {
      state: {
        previous: next,
        noActiveSince: next.active || next.summary === "split" ? undefined : at,
        lastActive: next.active,
        lockIdentity: next.dynamodb.lock?.identity,
      },
      events,
    };
  }

  for (const node of next.nodes) {
    const before = previous.nodes.find((candidate) => candidate.name === node.name)?.mode;
    if (before === undefined || before === node.mode) continue;
    if (node.mode === "down") {
      events.push({
        at,
        kind: "node-down",
        node: node.name,
        message: `${node.name} is down (${node.container === "running" ? "not answering" : `container ${node.container}`})`,
      });
    } else if (before === "down") {
      events.push({
        at,
        kind: "node-up",
        node: node.name,
        message: `${node.name} is back, ${node.mode}`,
      });
    } else if (node.mode === "sealed" && unsealedModes.includes(before)) {
      events.push({ at, kind: "sealed", node: node.name, message: `${node.name} sealed` });
    } else if (before === "sealed" && unsealedModes.includes(node.mode)) {
      events.push({
        at,
        kind: "unsealed",
        node: node.name,
        message: `${node.name} unsealed, ${node.mode}`,
      });
    }
  }

  if (previous.dynamodb.healthy !== next.dynamodb.healthy) {
    events.push({
      at,
      kind: "storage",
      message: next.dynamodb.healthy
        ? "DynamoDB Local is healthy again"
        : `DynamoDB Local is not healthy (${next.dynamodb.container})`,
    });
  }

  // The lock item's identity is new each time a node acquires the lock (a
  // renewal keeps it), so a new identity is the table's side of a failover.
  const lockBefore = state.lockIdentity;
  const lockNow = next.dynamodb.lock?.identity;
  if (lockBefore && lockNow && lockBefore !== lockNow) {
    events.push({
      at,
      kind: "lock",
      message: `HA lock acquired again: identity ${short(lockNow)} (was ${short(lockBefore)})`,
    });
  }

  let noActiveSince = state.noActiveSince;
  let lastActive = state.lastActive;
  if (next.summary === "split") {
    // Several nodes answering "active" is not a gap; only the log says so.
    if (previous.summary !== "split") {
      const claimants = next.nodes
        .filter((node) => node.mode === "active")
        .map((node) => node.name);
      events.push({
        at,
        kind: "split",
        message: `more than one node reports active: ${claimants.join(", ")}`,
      });
    }
  } else if (!next.active && (previous.active || previous.summary === "split")) {
    noActiveSince = at;
    const was = previous.active;
    events.push({
      at,
      kind: "no-active",
      node: was,
      message: was
        ? `no active node: ${was} is ${next.nodes.find((node) => node.name === was)?.mode ?? "gone"}`
        : "no active node",
    });
  } else if (!previous.active && next.active) {
    const gapMs = noActiveSince ? Date.parse(at) - Date.parse(noActiveSince) : undefined;
    const again = lastActive === next.active;
    events.push({
      at,
      kind: "failover",
      node: next.active,
      gapMs,
      message:
        gapMs === undefined
          ? `${next.active} is active`
          : again
            ? `${next.active} is active again after ${seconds(gapMs)} without an active node`
            : `failover: ${next.active} is active after ${seconds(gapMs)} without an active node${lastActive ? ` (was ${lastActive})` : ""}`,
    });
    noActiveSince = undefined;
  } else if (previous.active && next.active && previous.active !== next.active) {
    // Both snapshots saw an active node: the handover fell between two polls.
    events.push({
      at,
      kind: "leader-change",
      node: next.active,
      gapMs: 0,
      message: `leader changed: ${previous.active} → ${next.active} (no gap seen between polls)`,
    });
  }
  if (next.active) lastActive = next.active;

  return {
    state: { previous: next, noActiveSince, lastActive, lockIdentity: lockNow ?? lockBefore },
    events,
  };
}
