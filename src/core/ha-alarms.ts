import type { ClusterStatus } from "./cluster-status.js";

/**
 * Vault's DynamoDB lock TTL (its default, which vault-ha keeps). A standby
 * retries the lock every few seconds, so one TTL past expiry with no active
 * node is already unusual; two mean no node is going to take it.
 */
export const STUCK_LOCK_AFTER_SECONDS = 30;

export interface HaAlarm {
  readonly kind: "split-brain" | "stuck-lock";
  readonly message: string;
}

/**
 * What must never last on an HA cluster, read from one snapshot: more than
 * one node answering as active, and the HA lock left expired with no active
 * node (a known failure mode of Vault's DynamoDB backend, where no standby
 * takes over). Pure, so the dashboard and `status` say the same.
 */
export function haAlarms(status: ClusterStatus): HaAlarm[] {
  const alarms: HaAlarm[] = [];
  const claimants = status.nodes.filter((node) => node.mode === "active").map((node) => node.name);
  if (claimants.length > 1)
    alarms.push({
      kind: "split-brain",
      message: `${claimants.join(" and ")} both answer as active: split brain (Vault's HA lock allows one); watch whether it outlasts the lock TTL`,
    });
  const lock = status.dynamodb.lock;
  // Exact, not the whole seconds the dashboard shows: 29.5 s is not yet 30.
  const expiredMs = lock ? Date.parse(status.takenAt) - Date.parse(lock.expiresAt) : undefined;
  if (
    claimants.length === 0 &&
    expiredMs !== undefined &&
    expiredMs >= STUCK_LOCK_AFTER_SECONDS * 1000
  ) {
    const standbys = status.nodes
      .filter((node) => node.mode === "standby")
      .map((node) => node.name);
    alarms.push({
      kind: "stuck-lock",
      message: `the HA lock expired ${Math.floor(expiredMs / 1000)} s ago and no node is active: ${
        standbys.length > 0
          ? `a stuck lock (standbys ${standbys.join(", ")} do not take it); see vault-ha logs ${standbys[0]}`
          : "no unsealed node can take it; vault-ha up starts and unseals them"
      }`,
    });
  }
  return alarms;
}
