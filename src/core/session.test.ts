import { describe, expect, it } from "vitest";
import {
  formatAge,
  parseDuration,
  pruneVerdict,
  type Session,
  sessionFromLabels,
  sessionLabels,
} from "./session.js";

const session: Session = {
  id: "abc",
  ownerPid: 4242,
  ownerHost: "box",
  startedAt: "2026-11-30T10:00:00.000Z",
};
const now = new Date("2026-11-30T10:10:00.000Z");

describe("session labels", () => {
  it("round-trip through a resource's labels", () => {
    expect(sessionFromLabels(sessionLabels(session))).toEqual(session);
  });

  it("a resource without the session label has no session (never pruned)", () => {
    expect(sessionFromLabels({ "dev.vault-ha.project": "vault-ha" })).toBeUndefined();
  });

  it("a garbled owner pid reads as -1, which counts as gone", () => {
    const read = sessionFromLabels({ ...sessionLabels(session), "dev.vault-ha.owner-pid": "x" });
    expect(read?.ownerPid).toBe(-1);
    expect(pruneVerdict(read as Session, { host: "box", now, isAlive: () => true }).prune).toBe(
      true,
    );
  });
});

describe("pruneVerdict", () => {
  it("keeps a cluster whose owner runs on this host", () => {
    expect(pruneVerdict(session, { host: "box", now, isAlive: (pid) => pid === 4242 })).toEqual({
      prune: false,
      reason: "owner process 4242 is running",
    });
  });

  it("prunes a cluster whose owner is gone", () => {
    expect(pruneVerdict(session, { host: "box", now, isAlive: () => false })).toEqual({
      prune: true,
      reason: "owner process 4242 is gone",
    });
  });

  it("never judges an owner on another host by a local pid", () => {
    const verdict = pruneVerdict(session, { host: "other", now, isAlive: () => false });
    expect(verdict).toEqual({ prune: false, reason: "owned by a process on box" });
  });

  it("--older-than prunes by age whatever the owner", () => {
    const here = { host: "other", now, isAlive: () => true };
    expect(pruneVerdict(session, { ...here, olderThanMs: 5 * 60_000 })).toEqual({
      prune: true,
      reason: "started 10m ago",
    });
    expect(pruneVerdict(session, { ...here, olderThanMs: 11 * 60_000 }).prune).toBe(false);
  });
});

describe("pruneVerdict of a reusable cluster", () => {
  const reusable: Session = { ...session, id: "reuse-1", ownerPid: 0, reuse: "0123456789ab" };
  const here = { host: "box", now, isAlive: () => false };

  it("keeps it although it has no owner: it outlives its creator by design", () => {
    expect(pruneVerdict(reusable, here)).toEqual({
      prune: false,
      reason: "reusable cluster, kept for the next run; --reuse removes it",
    });
  });

  it("--reuse prunes it", () => {
    expect(pruneVerdict(reusable, { ...here, reuse: true }).prune).toBe(true);
  });

  it("--older-than prunes it by age, like any other", () => {
    expect(pruneVerdict(reusable, { ...here, olderThanMs: 5 * 60_000 }).prune).toBe(true);
    expect(pruneVerdict(reusable, { ...here, olderThanMs: 60 * 60_000 }).prune).toBe(false);
  });

  it("--reuse changes nothing for an ordinary ephemeral cluster", () => {
    expect(pruneVerdict(session, { ...here, isAlive: () => true, reuse: true }).prune).toBe(false);
  });
});

describe("durations", () => {
  it.each([
    ["90s", 90_000],
    ["15m", 900_000],
    ["2h", 7_200_000],
    ["1d", 86_400_000],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["", "5", "1w", "-1m", "1.5h"])("%j is not a duration", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it("ages read like a person would say them", () => {
    expect(formatAge(45_000)).toBe("45s");
    expect(formatAge(30 * 60_000)).toBe("30m");
    expect(formatAge(5 * 3_600_000)).toBe("5h");
    expect(formatAge(Number.POSITIVE_INFINITY)).toBe("an unknown time");
  });
});

describe("session edges", () => {
  it("a session label alone: no owner pid (-1), no host, no start time", () => {
    expect(sessionFromLabels({ "dev.vault-ha.session": "lonely" })).toEqual({
      id: "lonely",
      ownerPid: -1,
      ownerHost: "",
      startedAt: "",
    });
  });

  it("--older-than prunes a session exactly that old", () => {
    const here = { host: "box", now, isAlive: () => true, olderThanMs: 10 * 60_000 };
    expect(pruneVerdict(session, here)).toEqual({ prune: true, reason: "started 10m ago" });
  });

  it("an owner on no named host is 'another host'", () => {
    const verdict = pruneVerdict(
      { ...session, ownerHost: "" },
      { host: "box", now, isAlive: () => true },
    );
    expect(verdict).toEqual({ prune: false, reason: "owned by a process on another host" });
  });

  it("pid 0 is never asked about: the owner is gone", () => {
    const asked: number[] = [];
    const verdict = pruneVerdict(
      { ...session, ownerPid: 0 },
      {
        host: "box",
        now,
        isAlive: (pid) => {
          asked.push(pid);
          return true;
        },
      },
    );
    expect(verdict).toEqual({ prune: true, reason: "owner process 0 is gone" });
    expect(asked).toEqual([]);
  });

  it("ages switch unit at 120 of the smaller one", () => {
    expect(formatAge(119_000)).toBe("119s");
    expect(formatAge(120_000)).toBe("2m");
    expect(formatAge(119 * 60_000)).toBe("119m");
    expect(formatAge(120 * 60_000)).toBe("2h");
  });

  it("durations may have surrounding spaces, but nothing after the unit", () => {
    expect(parseDuration(" 90s ")).toBe(90_000);
    expect(parseDuration("5mx")).toBeUndefined();
    expect(parseDuration("x5m")).toBeUndefined();
  });
});
