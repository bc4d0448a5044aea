import { describe, expect, it } from "vitest";
import { fakeStatus } from "../../test/support/status-fixture.js";
import type { ClusterStatus, NodeMode } from "./cluster-status.js";
import { deriveEvents, type EventState, type HaEvent, initialEventState } from "./ha-events.js";

/** A snapshot at second `at` with the given modes for vault-1..N. */
const snapshot = (
  at: number,
  modes: NodeMode[],
  dynamodbHealthy = true,
  lockIdentity?: string,
): ClusterStatus =>
  fakeStatus(modes, {
    at: new Date(at * 1000),
    dynamodb: {
      healthy: dynamodbHealthy,
      lock: lockIdentity
        ? { identity: lockIdentity, expiresAt: new Date((at + 15) * 1000).toISOString() }
        : undefined,
    },
  });

function run(...snapshots: ClusterStatus[]): HaEvent[] {
  let state: EventState = initialEventState;
  const all: HaEvent[] = [];
  for (const next of snapshots) {
    const derived = deriveEvents(state, next);
    state = derived.state;
    all.push(...derived.events);
  }
  return all;
}

const kinds = (events: HaEvent[]) => events.map((event) => event.kind);

describe("HA events from successive snapshots", () => {
  it("a steady cluster gives one 'watching' event and nothing else", () => {
    const events = run(
      snapshot(0, ["active", "standby", "standby"]),
      snapshot(1, ["active", "standby", "standby"]),
      snapshot(2, ["active", "standby", "standby"]),
    );
    expect(events).toEqual([
      { at: "1970-01-01T00:00:00.000Z", kind: "watching", message: "watching p: vault-1 active" },
    ]);
  });

  it("a failover: the active node goes down, a standby takes over; the gap is measured", () => {
    const events = run(
      snapshot(0, ["active", "standby", "standby"]),
      snapshot(1, ["down", "standby", "standby"]),
      snapshot(2, ["down", "standby", "standby"]),
      snapshot(15.5, ["down", "active", "standby"]),
    );
    expect(kinds(events)).toEqual(["watching", "node-down", "no-active", "failover"]);
    const failover = events.at(-1);
    expect(failover?.gapMs).toBe(14_500);
    expect(failover?.node).toBe("vault-2");
    expect(failover?.message).toBe(
      "failover: vault-2 is active after 14.5 s without an active node (was vault-1)",
    );
  });

  it("two failovers in a row each get their own gap", () => {
    const events = run(
      snapshot(0, ["active", "standby", "standby"]),
      snapshot(1, ["down", "standby", "standby"]),
      snapshot(3, ["down", "active", "standby"]),
      snapshot(4, ["down", "down", "standby"]),
      snapshot(20, ["down", "down", "active"]),
    );
    const failovers = events.filter((event) => event.kind === "failover");
    expect(failovers.map((event) => [event.node, event.gapMs])).toEqual([
      ["vault-2", 2_000],
      ["vault-3", 16_000],
    ]);
  });

  it("a node flapping down and up is reported each time, without a leader event", () => {
    const events = run(
      snapshot(0, ["active", "standby", "standby"]),
      snapshot(1, ["active", "down", "standby"]),
      snapshot(2, ["active", "sealed", "standby"]),
      snapshot(3, ["active", "down", "standby"]),
      snapshot(4, ["active", "sealed", "standby"]),
      snapshot(5, ["active", "standby", "standby"]),
    );
    expect(kinds(events)).toEqual([
      "watching",
      "node-down",
      "node-up",
      "node-down",
      "node-up",
      "unsealed",
    ]);
    expect(events[1]?.message).toBe("vault-2 is down (container exited)");
    expect(events[2]?.message).toBe("vault-2 is back, sealed");
  });

  it("a handover between two polls is a leader change with no gap seen", () => {
    const events = run(snapshot(0, ["active", "standby"]), snapshot(1, ["standby", "active"]));
    expect(events.at(-1)).toMatchObject({ kind: "leader-change", node: "vault-2", gapMs: 0 });
  });

  it("sealing, unsealing and storage health changes", () => {
    const events = run(
      snapshot(0, ["active", "standby"]),
      snapshot(1, ["active", "sealed"]),
      snapshot(2, ["active", "standby"], false),
      snapshot(3, ["active", "standby"], true),
    );
    expect(kinds(events)).toEqual(["watching", "sealed", "unsealed", "storage", "storage"]);
  });

  it("starting with no active node counts the gap from the first snapshot", () => {
    const events = run(snapshot(0, ["sealed", "sealed"]), snapshot(2, ["active", "sealed"]));
    expect(events.at(-1)).toMatchObject({ kind: "failover", gapMs: 2_000 });
  });

  it("the active node flapping (sealed, unsealed, sealed, unsealed) gives one gap per outage", () => {
    const events = run(
      snapshot(0, ["active", "standby"]),
      snapshot(1, ["sealed", "standby"]),
      snapshot(2, ["active", "standby"]),
      snapshot(3, ["sealed", "standby"]),
      snapshot(3.5, ["sealed", "sealed"]),
      snapshot(6, ["active", "sealed"]),
    );
    expect(kinds(events)).toEqual([
      "watching",
      "sealed",
      "no-active",
      "unsealed",
      "failover",
      "sealed",
      "no-active",
      "sealed",
      "unsealed",
      "failover",
    ]);
    const gaps = events.filter((event) => event.kind === "failover");
    expect(gaps.map((event) => [event.message, event.gapMs])).toEqual([
      ["vault-1 is active again after 1.0 s without an active node", 1_000],
      ["vault-1 is active again after 3.0 s without an active node", 3_000],
    ]);
  });

  it("a standby flapping between down and standby never touches the failover state", () => {
    const events = run(
      snapshot(0, ["active", "standby"]),
      snapshot(1, ["active", "down"]),
      snapshot(2, ["active", "standby"]),
      snapshot(3, ["active", "down"]),
      snapshot(4, ["down", "down"]),
      snapshot(9, ["down", "active"]),
    );
    expect(kinds(events)).toEqual([
      "watching",
      "node-down",
      "node-up",
      "node-down",
      "node-down",
      "no-active",
      "node-up",
      "failover",
    ]);
    expect(events.at(-1)?.gapMs).toBe(5_000);
  });

  it("a new identity on the HA lock item is logged; a renewal (same identity) is not", () => {
    const events = run(
      snapshot(0, ["active", "standby"], true, "aaaaaaaa-1111"),
      snapshot(5, ["active", "standby"], true, "aaaaaaaa-1111"),
      snapshot(6, ["down", "standby"], true, "aaaaaaaa-1111"),
      // A poll that could not read the item forgets nothing.
      snapshot(20, ["down", "standby"], true, undefined),
      snapshot(21, ["down", "active"], true, "bbbbbbbb-2222"),
    );
    expect(events.find((event) => event.kind === "lock")?.message).toBe(
      "HA lock acquired again: identity bbbbbbbb… (was aaaaaaaa…)",
    );
    expect(kinds(events).filter((kind) => kind === "lock")).toHaveLength(1);
  });

  it("two nodes claiming active is a split, not a gap", () => {
    const events = run(
      snapshot(0, ["active", "standby"]),
      snapshot(1, ["active", "active"]),
      snapshot(2, ["active", "active"]),
      snapshot(3, ["standby", "active"]),
    );
    expect(kinds(events)).toEqual(["watching", "split", "failover"]);
    expect(events[1]?.message).toBe("more than one node reports active: vault-1, vault-2");
    expect(events[2]?.gapMs).toBeUndefined();
  });

  it("a node whose container runs but whose API does not answer is down, and says why", () => {
    const healthy = snapshot(0, ["active", "standby"]);
    const frozen = snapshot(1, ["active", "standby"]);
    const events = run(healthy, {
      ...frozen,
      nodes: frozen.nodes.map((node) =>
        node.name === "vault-2" ? { ...node, mode: "down" as const } : node,
      ),
    });
    expect(events.at(-1)?.message).toBe("vault-2 is down (not answering)");
  });
});

describe("HA event messages", () => {
  const messages = (events: HaEvent[]) => events.map((event) => [event.kind, event.message]);

  it("watching a cluster without an active node says why", () => {
    expect(messages(run(snapshot(0, ["sealed", "sealed"])))).toEqual([
      ["watching", "watching p: no active node (no-active)"],
    ]);
    expect(messages(run(snapshot(0, ["uninitialized"])))).toEqual([
      ["watching", "watching p: no active node (uninitialized)"],
    ]);
  });

  it("a gap that began before watching counts from the first snapshot; no earlier leader is named", () => {
    const events = run(snapshot(0, ["sealed", "sealed"]), snapshot(3, ["active", "standby"]));
    expect(events.at(-1)).toEqual({
      at: "1970-01-01T00:00:03.000Z",
      kind: "failover",
      node: "vault-1",
      gapMs: 3_000,
      message: "failover: vault-1 is active after 3.0 s without an active node",
    });
  });

  it("a split that resolves is no gap: the new leader is just active", () => {
    const events = run(snapshot(0, ["active", "active"]), snapshot(2, ["active", "standby"]));
    expect(events).toEqual([
      {
        at: "1970-01-01T00:00:00.000Z",
        kind: "watching",
        message: "watching p: no active node (split)",
      },
      {
        at: "1970-01-01T00:00:02.000Z",
        kind: "failover",
        node: "vault-1",
        gapMs: undefined,
        message: "vault-1 is active",
      },
    ]);
  });

  it("a split is logged once, naming only the nodes that claim to be active", () => {
    const events = run(
      snapshot(0, ["active", "standby", "standby"]),
      snapshot(1, ["active", "standby", "active"]),
      snapshot(2, ["active", "standby", "active"]),
    );
    expect(events.slice(1)).toEqual([
      {
        at: "1970-01-01T00:00:01.000Z",
        kind: "split",
        message: "more than one node reports active: vault-1, vault-3",
      },
    ]);
  });

  it("from a split to no active node: 'no active node', naming none", () => {
    const events = run(snapshot(0, ["active", "active"]), snapshot(1, ["sealed", "sealed"]));
    expect(events.at(-1)).toEqual({
      at: "1970-01-01T00:00:01.000Z",
      kind: "no-active",
      node: undefined,
      message: "no active node",
    });
  });

  it("sealing, unsealing and DynamoDB's health, word for word", () => {
    const events = run(
      snapshot(0, ["active", "standby"]),
      snapshot(1, ["active", "sealed"], false),
      snapshot(2, ["active", "standby"], true),
    );
    expect(messages(events).slice(1)).toEqual([
      ["sealed", "vault-2 sealed"],
      ["storage", "DynamoDB Local is not healthy (running)"],
      ["unsealed", "vault-2 unsealed, standby"],
      ["storage", "DynamoDB Local is healthy again"],
    ]);
  });

  it("the old leader's state is named when no node is active; 'gone' when it left the snapshot", () => {
    expect(
      messages(run(snapshot(0, ["active", "standby"]), snapshot(1, ["sealed", "standby"]))).at(-1),
    ).toEqual(["no-active", "no active node: vault-1 is sealed"]);
    const shrunk = fakeStatus(["standby"], { at: new Date(1_000) });
    expect(messages(run(snapshot(0, ["standby", "active"]), shrunk)).at(-1)).toEqual([
      "no-active",
      "no active node: vault-2 is gone",
    ]);
  });

  it("a node that stays down, or appears only in the newer snapshot, gives no event", () => {
    const events = run(
      snapshot(0, ["active", "down"]),
      snapshot(1, ["active", "down"]),
      snapshot(2, ["active", "down", "down"]),
    );
    expect(kinds(events)).toEqual(["watching"]);
  });

  it("a handover between two polls, then the same leader back after a gap", () => {
    const events = run(
      snapshot(0, ["active", "standby"]),
      snapshot(1, ["standby", "active"]),
      snapshot(2, ["standby", "sealed"]),
      snapshot(4, ["standby", "active"]),
    );
    expect(messages(events).slice(1)).toEqual([
      ["leader-change", "leader changed: vault-1 → vault-2 (no gap seen between polls)"],
      ["sealed", "vault-2 sealed"],
      ["no-active", "no active node: vault-2 is sealed"],
      ["unsealed", "vault-2 unsealed, active"],
      ["failover", "vault-2 is active again after 2.0 s without an active node"],
    ]);
  });
});
