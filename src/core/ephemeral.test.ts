import { describe, expect, it } from "vitest";
import {
  EPHEMERAL_PROJECT_PREFIX,
  ephemeralAssignments,
  ephemeralDefaults,
  ephemeralProjectName,
  newSession,
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
    });
  });

  it("the CLI's assignments are the same defaults, spelled as --set pairs", () => {
    expect(ephemeralAssignments("vha-1234")).toEqual([
      ["project", "vha-1234"],
      ["vault.hostPort", "0"],
      ["dynamodb.hostPort", "0"],
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
