import { describe, expect, it } from "vitest";
import {
  type ClusterStatus,
  type ContainerState,
  clusterStatus,
  type DynamoDbStatus,
  type NodeStatus,
  nodeMode,
  nodeStatus,
  summarize,
  type VaultProbe,
} from "./cluster-status.js";
import { planUp } from "./plan-up.js";

const up = (initialized: boolean, sealed: boolean, standby: boolean): VaultProbe => ({
  reachable: true,
  initialized,
  sealed,
  standby,
  version: "1.21.1",
  latencyMs: 3,
});
const running: ContainerState = { state: "running", health: "healthy" };
const node = (index: number, probe: VaultProbe | undefined, container = running): NodeStatus =>
  nodeStatus({
    name: `vault-${index}`,
    index,
    url: `http://127.0.0.1:${8199 + index}`,
    container,
    probe,
  });
const missing = (index: number): NodeStatus =>
  nodeStatus({
    name: `vault-${index}`,
    index,
    url: undefined,
    container: undefined,
    probe: undefined,
  });
const dynamodb: DynamoDbStatus = {
  container: "running",
  healthy: true,
  table: "vault-data",
  endpoint: "http://127.0.0.1:8000",
  tableStatus: "ACTIVE",
  itemCount: 10,
  lock: undefined,
  error: undefined,
};
const cluster = (...nodes: NodeStatus[]): ClusterStatus =>
  clusterStatus("p", new Date(0), nodes, dynamodb);

describe("node mode", () => {
  it("derives the mode from container and health", () => {
    expect(nodeMode("running", up(true, false, false))).toBe("active");
    expect(nodeMode("running", up(true, false, true))).toBe("standby");
    expect(nodeMode("running", up(true, true, false))).toBe("sealed");
    expect(nodeMode("running", up(false, true, false))).toBe("uninitialized");
    expect(nodeMode("exited", up(true, false, false))).toBe("down");
    expect(nodeMode("running", { reachable: false, error: "ECONNREFUSED", latencyMs: 1 })).toBe(
      "down",
    );
    expect(nodeMode("running", undefined)).toBe("down");
  });

  it("keeps the probe error only for a running container", () => {
    const failed: VaultProbe = {
      reachable: false,
      error: "no answer within 2000 ms",
      latencyMs: 2000,
    };
    expect(node(1, failed).error).toBe("no answer within 2000 ms");
    expect(node(1, failed, { state: "exited", health: undefined }).error).toBeUndefined();
    expect(
      nodeStatus({
        name: "vault-1",
        index: 1,
        url: undefined,
        container: undefined,
        probe: undefined,
      }).container,
    ).toBe("missing");
  });
});

describe("summary", () => {
  it.each([
    [[up(true, false, false), up(true, false, true), up(true, false, true)], "healthy"],
    [[up(true, false, false), up(true, true, false), up(true, false, true)], "degraded"],
    [[up(true, true, false), up(true, true, false), up(true, true, false)], "no-active"],
    [[up(true, false, false), up(true, false, false)], "split"],
    [[up(false, true, false), up(false, true, false)], "uninitialized"],
  ])("%j → %s", (probes, expected) => {
    expect(summarize(probes.map((probe, offset) => node(offset + 1, probe)))).toBe(expected);
  });

  it("absent when no container exists", () => {
    expect(
      summarize(
        [node(1, undefined, undefined as never)].map((entry) => ({
          ...entry,
          container: "missing",
        })),
      ),
    ).toBe("absent");
  });

  it("names the active node only when there is exactly one", () => {
    expect(cluster(node(1, up(true, false, true)), node(2, up(true, false, false))).active).toBe(
      "vault-2",
    );
    expect(
      cluster(node(1, up(true, false, false)), node(2, up(true, false, false))).active,
    ).toBeUndefined();
  });
});

describe("planUp", () => {
  const opts = { keysStored: true, composeFileChanged: false };

  it("does nothing to a healthy cluster", () => {
    const plan = planUp(
      cluster(node(1, up(true, false, false)), node(2, up(true, false, true))),
      opts,
    );
    expect(plan).toEqual({
      start: false,
      initialize: false,
      unseal: [],
      keysMissing: false,
      staleKeys: false,
    });
  });

  it("starts when containers are missing or the file changed", () => {
    expect(planUp(cluster(missing(1)), opts).start).toBe(true);
    expect(
      planUp(cluster(node(1, up(true, false, false))), { ...opts, composeFileChanged: true }).start,
    ).toBe(true);
  });

  it("initialises a new cluster; sets stale keys aside", () => {
    const fresh = cluster(node(1, up(false, true, false)), node(2, up(false, true, false)));
    expect(planUp(fresh, { ...opts, keysStored: false })).toMatchObject({
      initialize: true,
      staleKeys: false,
    });
    expect(planUp(fresh, opts)).toMatchObject({ initialize: true, staleKeys: true });
  });

  it("unseals exactly the sealed nodes", () => {
    const restarted = cluster(
      node(1, up(true, true, false)),
      node(2, up(true, false, false)),
      node(3, up(true, true, false)),
    );
    expect(planUp(restarted, opts).unseal).toEqual(["vault-1", "vault-3"]);
  });

  it("an initialised cluster without keys cannot be unsealed", () => {
    expect(
      planUp(cluster(node(1, up(true, true, false))), { ...opts, keysStored: false }).keysMissing,
    ).toBe(true);
  });
});

describe("summarize: uninitialised or not", () => {
  it("one uninitialised node and the rest down, none initialised: uninitialized", () => {
    expect(summarize([node(1, up(false, true, false)), node(2, undefined)])).toBe("uninitialized");
  });

  it("an uninitialised node beside an initialised sealed one: no-active, not uninitialized", () => {
    expect(summarize([node(1, up(false, true, false)), node(2, up(true, true, false))])).toBe(
      "no-active",
    );
  });
});
