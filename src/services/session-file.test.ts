import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Session } from "../core/session.js";
import { readSession, recordSession, SESSION_FILE } from "./session-file.js";

const session: Session = {
  id: "0123abcd",
  ownerPid: 4242,
  ownerHost: "box",
  startedAt: "2026-11-30T10:00:00.000Z",
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "vault-ha-session-file-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("session file", () => {
  it("records the session as the labels Docker shows, owner-only", async () => {
    await recordSession(dir, session);
    const file = path.join(dir, SESSION_FILE);
    expect(SESSION_FILE).toBe("session.json");
    expect(await readFile(file, "utf8")).toBe(
      `${JSON.stringify(
        {
          "dev.vault-ha.ephemeral": "true",
          "dev.vault-ha.session": "0123abcd",
          "dev.vault-ha.owner-pid": "4242",
          "dev.vault-ha.owner-host": "box",
          "dev.vault-ha.started": "2026-11-30T10:00:00.000Z",
        },
        null,
        2,
      )}\n`,
    );
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it("reads back what was recorded", async () => {
    await recordSession(dir, session);
    expect(readSession(dir)).toEqual(session);
  });

  it("recording again replaces the earlier session", async () => {
    await recordSession(dir, session);
    await recordSession(dir, { ...session, id: "ffff0000", ownerPid: 7 });
    expect(readSession(dir)).toEqual({ ...session, id: "ffff0000", ownerPid: 7 });
  });

  it.each([
    ["no file", undefined],
    ["not JSON", "{not json"],
    ["JSON null", "null"],
    ["no session label", '{"dev.vault-ha.project":"vault-ha"}'],
  ])("reads no session from a folder with %s", async (_, content) => {
    if (content !== undefined) await writeFile(path.join(dir, SESSION_FILE), content);
    expect(readSession(dir)).toBeUndefined();
  });

  it("reads no session from a folder that does not exist", () => {
    expect(readSession(path.join(dir, "missing"))).toBeUndefined();
  });

  it("recording into a folder that does not exist fails (the caller creates it)", async () => {
    await expect(recordSession(path.join(dir, "missing"), session)).rejects.toMatchObject({
      code: "ENOENT",
    });
  });
});
