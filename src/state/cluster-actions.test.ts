import { describe, expect, it } from "vitest";
import { clusterActions } from "./cluster-actions.js";

type Cluster = Parameters<typeof clusterActions>[0];

const fakeCluster = (overrides: Partial<Cluster> = {}): Cluster => ({
  stepDown: async () => ({ from: "vault-1", to: "vault-3", elapsedMs: 1_234 }),
  nodeContainer: async () => {},
  seal: async (names) => (names ?? []).map((name) => ({ name, how: "api" as const })),
  unseal: async () => [],
  ...overrides,
});

describe("the dashboard's actions say what they did", () => {
  it("step-down names both nodes and the time", async () => {
    expect(await clusterActions(fakeCluster()).stepDown()).toBe(
      "step-down: vault-1 → vault-3 in 1.2 s",
    );
  });

  it("container actions go to the named node", async () => {
    const seen: string[] = [];
    const actions = clusterActions(
      fakeCluster({ nodeContainer: async (name, action) => void seen.push(`${action} ${name}`) }),
    );
    expect(await actions.container("vault-2", "kill")).toBe("killed vault-2's container");
    expect(await actions.container("vault-2", "start")).toBe("started vault-2's container");
    expect(seen).toEqual(["kill vault-2", "start vault-2"]);
  });

  it("sealing a standby says it was restarted; a node not unsealed says so", async () => {
    const restart = clusterActions(
      fakeCluster({ seal: async () => [{ name: "vault-2", how: "restart" }] }),
    );
    expect(await restart.seal("vault-2")).toBe(
      "sealed vault-2 by restarting its container (a standby cannot be sealed through the API)",
    );
    expect(await clusterActions(fakeCluster()).seal("vault-1")).toBe("sealed vault-1");
    const none = clusterActions(fakeCluster({ seal: async () => [] }));
    expect(await none.seal("vault-3")).toBe("vault-3 is not unsealed; nothing to seal");
  });

  it("unseal all lists the nodes it unsealed", async () => {
    expect(await clusterActions(fakeCluster()).unsealAll()).toBe("no sealed node to unseal");
    const some = clusterActions(fakeCluster({ unseal: async () => ["vault-1", "vault-3"] }));
    expect(await some.unsealAll()).toBe("unsealed vault-1, vault-3");
  });
});
