import { describe, expect, it } from "vitest";
import type { ClusterStatus, NodeMode } from "./cluster-status.js";
import { haAlarms } from "./ha-alarms.js";

const at = "2026-12-01T10:00:00.000Z";
const status = (modes: NodeMode[], lockExpiresInSeconds?: number) =>
  ({
    project: "demo",
    takenAt: at,
    nodes: modes.map((mode, index) => ({ name: `vault-${index + 1}`, mode })),
    dynamodb: {
      lock:
        lockExpiresInSeconds === undefined
          ? undefined
          : {
              identity: "abc",
              expiresAt: new Date(Date.parse(at) + lockExpiresInSeconds * 1000).toISOString(),
            },
    },
  }) as unknown as ClusterStatus;

describe("haAlarms", () => {
  it("is quiet on a healthy cluster and during an ordinary failover", () => {
    expect(haAlarms(status(["active", "standby", "standby"], 10))).toEqual([]);
    // Lock just expired after a kill: a standby is about to take it.
    expect(haAlarms(status(["down", "standby", "standby"], -12))).toEqual([]);
  });

  it("raises split brain when two nodes answer as active", () => {
    const alarms = haAlarms(status(["active", "active", "standby"], 5));
    expect(alarms.map((alarm) => alarm.kind)).toEqual(["split-brain"]);
    expect(alarms[0]?.message).toContain("vault-1 and vault-2 both answer as active");
  });

  it("raises a stuck lock 30 s past expiry with no active node, naming the standbys", () => {
    const [alarm] = haAlarms(status(["down", "standby", "standby"], -30));
    expect(alarm?.kind).toBe("stuck-lock");
    expect(alarm?.message).toBe(
      "the HA lock expired 30 s ago and no node is active: a stuck lock (standbys vault-2, vault-3 do not take it); see vault-ha logs vault-2",
    );
    expect(haAlarms(status(["down", "standby"], -29.9))).toEqual([]);
  });

  it("says what to do when no node could take the lock", () => {
    const [alarm] = haAlarms(status(["down", "sealed", "down"], -90));
    expect(alarm?.message).toContain("no unsealed node can take it; vault-ha up");
  });

  it("is quiet without a lock item", () => {
    expect(haAlarms(status(["down", "standby"]))).toEqual([]);
  });
});
