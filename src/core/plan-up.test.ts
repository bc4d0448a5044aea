import { describe, expect, it } from "vitest";
import {
  type ClusterStatus,
  clusterStatus,
  type DynamoDbStatus,
  type NodeMode,
  nodeStatus,
} from "./cluster-status.js";
import { planUp } from "./plan-up.js";

const table: DynamoDbStatus = {
  container: "running",
  healthy: true,
  table: "vault-data",
  endpoint: "http://127.0.0.1:8000",
  tableStatus: "ACTIVE",
  itemCount: 1,
  lock: undefined,
  error: undefined,
};

/** vault-1..N in these modes; "down" is an exited container, "missing" none at all. */
const cluster = (
  modes: readonly (NodeMode | "missing")[],
  dynamodb: Partial<DynamoDbStatus> = {},
): ClusterStatus =>
  clusterStatus(
    "p",
    new Date(0),
    modes.map((mode, offset) =>
      nodeStatus({
        name: `vault-${offset + 1}`,
        index: offset + 1,
        url: undefined,
        container:
          mode === "missing"
            ? undefined
            : { state: mode === "down" ? "exited" : "running", health: undefined },
        probe:
          mode === "missing" || mode === "down"
            ? undefined
            : {
                reachable: true,
                initialized: mode !== "uninitialized",
                sealed: mode === "sealed" || mode === "uninitialized",
                standby: mode === "standby",
                version: "1.21.1",
                latencyMs: 1,
              },
      }),
    ),
    { ...table, ...dynamodb },
  );

const stored = { keysStored: true, composeFileChanged: false };
const nothing = {
  start: false,
  initialize: false,
  unseal: [],
  keysMissing: false,
  staleKeys: false,
};

describe("planUp", () => {
  it("leaves a healthy cluster alone", () => {
    expect(planUp(cluster(["active", "standby", "standby"]), stored)).toEqual(nothing);
  });

  it.each([
    ["a node's container is stopped", cluster(["active", "down"])],
    ["a node's container is missing", cluster(["active", "missing"])],
    ["DynamoDB's container is not running", cluster(["active"], { container: "exited" })],
    ["DynamoDB is running but not healthy", cluster(["active"], { healthy: false })],
  ])("starts when %s", (_, status) => {
    expect(planUp(status, stored)).toEqual({ ...nothing, start: true });
  });

  it("starts when only the Compose file changed", () => {
    expect(planUp(cluster(["active"]), { ...stored, composeFileChanged: true })).toEqual({
      ...nothing,
      start: true,
    });
  });

  it("initialises a cluster whose nodes are all uninitialised; stored keys are then stale", () => {
    const fresh = cluster(["uninitialized", "uninitialized"]);
    expect(planUp(fresh, { ...stored, keysStored: false })).toEqual({
      ...nothing,
      initialize: true,
    });
    expect(planUp(fresh, stored)).toEqual({ ...nothing, initialize: true, staleKeys: true });
  });

  it("never initialises when any node is initialised, even if another reports not", () => {
    const plan = planUp(cluster(["uninitialized", "sealed"]), stored);
    expect(plan).toEqual({ ...nothing, unseal: ["vault-2"] });
  });

  it("does not initialise a cluster it cannot see (every node down)", () => {
    expect(planUp(cluster(["down", "down"]), { ...stored, keysStored: false })).toEqual({
      ...nothing,
      start: true,
    });
  });

  it("an initialised cluster without stored keys: keys missing, and still lists the sealed nodes", () => {
    expect(planUp(cluster(["sealed", "standby"]), { ...stored, keysStored: false })).toEqual({
      ...nothing,
      unseal: ["vault-1"],
      keysMissing: true,
    });
    expect(
      planUp(cluster(["active", "standby"]), { ...stored, keysStored: false }).keysMissing,
    ).toBe(true);
  });

  it("unseals exactly the sealed nodes, in order; down nodes wait for the start", () => {
    expect(planUp(cluster(["sealed", "active", "down", "sealed"]), stored)).toEqual({
      ...nothing,
      start: true,
      unseal: ["vault-1", "vault-4"],
    });
  });
});

describe("planUp: initialising", () => {
  it("initialises when one node answers uninitialised and the others are still down", () => {
    expect(planUp(cluster(["uninitialized", "down", "down"]), stored)).toEqual({
      ...nothing,
      start: true,
      initialize: true,
      staleKeys: true,
    });
  });
});
