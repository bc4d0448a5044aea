import { describe, expect, it } from "vitest";
import type { ClusterStatus, NodeStatus } from "./cluster-status.js";
import { ClusterNotHealthyError, UsageError } from "./errors.js";
import { compareReleases, imageRelease, planUpgrade, releaseOf } from "./upgrade-plan.js";

const node = (name: string, mode: NodeStatus["mode"], version = "1.20.4") =>
  ({ name, mode, version }) as NodeStatus;

const status = (nodes: NodeStatus[], summary: ClusterStatus["summary"] = "healthy") =>
  ({
    project: "demo",
    summary,
    active: nodes.find((candidate) => candidate.mode === "active")?.name,
    nodes,
  }) as unknown as ClusterStatus;

describe("releases", () => {
  it("reads a release from versions and image tags", () => {
    expect(releaseOf("v1.21.1+ent")).toEqual([1, 21, 1]);
    expect(releaseOf("latest")).toBeUndefined();
    expect(imageRelease("hashicorp/vault:1.21.1")).toEqual([1, 21, 1]);
    expect(imageRelease("registry:5000/vault")).toBeUndefined();
    expect(imageRelease("hashicorp/vault:latest")).toBeUndefined();
    expect(imageRelease("hashicorp/vault@sha256:1.2.3")).toBeUndefined();
  });

  it("compares part by part, not as text", () => {
    expect(compareReleases([1, 10, 0], [1, 9, 9])).toBe(1);
    expect(compareReleases([1, 9, 9], [1, 10, 0])).toBe(-1);
    expect(compareReleases([1, 2, 3], [1, 2, 3])).toBe(0);
  });
});

describe("planUpgrade", () => {
  const healthy = status([
    node("vault-1", "standby"),
    node("vault-2", "active"),
    node("vault-3", "standby"),
  ]);

  it("orders standbys first and the active node last", () => {
    const plan = planUpgrade(healthy, "hashicorp/vault:1.21.1");
    expect(plan.order).toEqual(["vault-1", "vault-3", "vault-2"]);
    expect(plan.active).toBe("vault-2");
    expect(plan.to).toBe("1.21.1");
    expect(plan.from).toEqual({ "vault-1": "1.20.4", "vault-2": "1.20.4", "vault-3": "1.20.4" });
  });

  it("refuses a downgrade unless forced", () => {
    expect(() => planUpgrade(healthy, "hashicorp/vault:1.19.0")).toThrow(UsageError);
    expect(() => planUpgrade(healthy, "hashicorp/vault:1.19.0")).toThrow(/--force/);
    expect(planUpgrade(healthy, "hashicorp/vault:1.19.0", { force: true }).order).toHaveLength(3);
  });

  it("allows the same release (a rebuilt image) and a tag that names none", () => {
    expect(planUpgrade(healthy, "hashicorp/vault:1.20.4").to).toBe("1.20.4");
    expect(planUpgrade(healthy, "hashicorp/vault:latest").to).toBeUndefined();
  });

  it("refuses a cluster that is not healthy", () => {
    const degraded = status([node("vault-1", "active"), node("vault-2", "sealed")], "degraded");
    expect(() => planUpgrade(degraded, "hashicorp/vault:1.21.1")).toThrow(ClusterNotHealthyError);
    expect(() => planUpgrade(degraded, "hashicorp/vault:1.21.1")).toThrow(/vault-2 sealed/);
  });
});
