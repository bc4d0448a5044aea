import { describe, expect, it } from "vitest";
import { configSchema } from "./config-schema.js";
import {
  EPHEMERAL_PROJECT_PREFIX,
  ephemeralAssignments,
  ephemeralDefaults,
  ephemeralProjectName,
  newSession,
  reuseIdentity,
} from "./ephemeral.js";
import { layerFromAssignments, resolveConfig } from "./resolve-config.js";
import { sessionFromLabels, sessionLabels } from "./session.js";

describe("ephemeral clusters", () => {
  it("are named vha-<random hex>", () => {
    expect(EPHEMERAL_PROJECT_PREFIX).toBe("vha-");
    expect(ephemeralProjectName("0a1b2c3d")).toBe("vha-0a1b2c3d");
  });

  it("default to Docker-chosen host ports and in-memory DynamoDB", () => {
    expect(ephemeralDefaults("vha-1234")).toEqual({
      project: "vha-1234",
      vault: { hostPort: 0 },
      dynamodb: { hostPort: 0, inMemory: true },
      loadBalancer: { hostPort: 0 },
      seal: { hostPort: 0 },
    });
  });

  it("the CLI's assignments are the same defaults, spelled as --set pairs", () => {
    expect(ephemeralAssignments("vha-1234")).toEqual([
      ["project", "vha-1234"],
      ["vault.hostPort", "0"],
      ["dynamodb.hostPort", "0"],
      ["loadBalancer.hostPort", "0"],
      ["seal.hostPort", "0"],
      ["dynamodb.inMemory", "true"],
    ]);
    // Both spellings give one configuration.
    const fromFlags = resolveConfig([
      layerFromAssignments("flags", ephemeralAssignments("vha-1234")).layer,
    ]);
    const fromValues = resolveConfig([
      { source: "options", values: ephemeralDefaults("vha-1234") },
    ]);
    expect(fromFlags.ok && fromValues.ok).toBe(true);
    if (!fromFlags.ok || !fromValues.ok) return;
    expect(fromFlags.config).toEqual(fromValues.config);
    expect(fromFlags.config.vault.hostPort).toBe(0);
    expect(fromFlags.config.dynamodb).toMatchObject({ hostPort: 0, inMemory: true });
    expect(fromFlags.config.project).toBe("vha-1234");
  });

  it("a new session records the owner and the start time in ISO form", () => {
    const session = newSession(
      "s-1",
      { pid: 4242, host: "box" },
      new Date(Date.UTC(2026, 10, 30, 9)),
    );
    expect(session).toEqual({
      id: "s-1",
      ownerPid: 4242,
      ownerHost: "box",
      startedAt: "2026-11-30T09:00:00.000Z",
    });
    expect(sessionFromLabels(sessionLabels(session))).toEqual(session);
  });
});

describe("reusable clusters", () => {
  const at = new Date(Date.UTC(2026, 10, 30, 9));
  const config = (input: Record<string, unknown> = {}) =>
    configSchema.parse({ ...ephemeralDefaults("vha-1"), ...input });

  it("are named after their settings, whatever project the run drew", () => {
    const first = reuseIdentity(config({ project: "vha-aaaa" }), "box", at);
    const second = reuseIdentity(config({ project: "vha-bbbb" }), "other", new Date());
    expect(first.project).toMatch(/^vha-reuse-[0-9a-f]{12}$/);
    expect(second.project).toBe(first.project);
    expect(second.session.id).toBe(first.session.id);
  });

  it("a different setting is a different cluster", () => {
    const base = reuseIdentity(config(), "box", at).project;
    expect(reuseIdentity(config({ nodes: 1 }), "box", at).project).not.toBe(base);
    expect(
      reuseIdentity(config({ init: { keyShares: 1, keyThreshold: 1 } }), "box", at).project,
    ).not.toBe(base);
    expect(
      reuseIdentity(config({ vault: { image: "hashicorp/vault:1.20.0", hostPort: 0 } }), "box", at)
        .project,
    ).not.toBe(base);
  });

  it("have no owner process, and say so in their labels", () => {
    const { session } = reuseIdentity(config(), "box", at);
    expect(session).toMatchObject({
      ownerPid: 0,
      ownerHost: "box",
      startedAt: "2026-11-30T09:00:00.000Z",
    });
    expect(session.reuse).toMatch(/^[0-9a-f]{12}$/);
    expect(sessionLabels(session)["dev.vault-ha.reuse"]).toBe(session.reuse);
    expect(sessionFromLabels(sessionLabels(session))).toEqual(session);
  });
});
