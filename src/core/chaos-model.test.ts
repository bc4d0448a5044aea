import { describe, expect, it } from "vitest";
import {
  accountWrites,
  DEFAULT_FAULTS,
  LOCK_TTL_MS,
  longestGap,
  longestNoActive,
  type ObserverSample,
  parseFaults,
  percentile,
  type ReadBack,
  type RoundResult,
  roundResult,
  splitBrainWindows,
  summarize,
  verdict,
  type WriteAck,
} from "./chaos-model.js";
import { UsageError } from "./errors.js";

const sample = (t: number, ...active: string[]): ObserverSample => ({ t, active });
const ack = (writer: number, sequence: number, t = sequence * 100): WriteAck => ({
  path: `chaos/data/run-x/w${writer}-${sequence}`,
  writer,
  sequence,
  version: 1,
  value: `v${writer}-${sequence}`,
  t,
  via: "vault-1",
});
const found = (value: string, createdAt: number, version = 1): ReadBack => ({
  value,
  version,
  createdAt,
});

describe("parseFaults", () => {
  it("defaults to kill, stop and step-down", () => {
    expect(parseFaults(undefined)).toEqual(["kill", "stop", "step-down"]);
    expect(DEFAULT_FAULTS).toEqual(["kill", "stop", "step-down"]);
  });

  it("keeps the given order, trims, and drops repeats", () => {
    expect(parseFaults(" pause, kill ,pause,partition")).toEqual(["pause", "kill", "partition"]);
  });

  it("refuses an unknown fault with the list of known ones", () => {
    expect(() => parseFaults("kill,explode")).toThrow(UsageError);
    expect(() => parseFaults("kill,explode")).toThrow(/unknown fault explode; .*dynamodb-restart/);
    expect(() => parseFaults(",")).toThrow(/\(none given\)/);
  });
});

describe("splitBrainWindows", () => {
  it("finds each stretch with two active nodes, ending at the first sample with one", () => {
    const windows = splitBrainWindows([
      sample(0, "vault-1"),
      sample(100, "vault-1", "vault-2"),
      sample(200, "vault-2", "vault-1"),
      sample(300, "vault-2"),
      sample(400, "vault-2", "vault-3"),
      sample(500),
    ]);
    expect(windows).toEqual([
      { startT: 100, endT: 300, nodes: ["vault-1", "vault-2"] },
      { startT: 400, endT: 500, nodes: ["vault-2", "vault-3"] },
    ]);
  });

  it("closes a window the run ended in at its last sample", () => {
    expect(splitBrainWindows([sample(0, "a", "b"), sample(250, "a", "b")])).toEqual([
      { startT: 0, endT: 250, nodes: ["a", "b"] },
    ]);
  });

  it("finds none while at most one node is active", () => {
    expect(splitBrainWindows([sample(0, "a"), sample(100), sample(200, "b")])).toEqual([]);
  });
});

describe("gaps", () => {
  it("longestGap measures from the window's start, between events, and to its end", () => {
    expect(longestGap([150, 300, 1200], 100, 1300)).toBe(900);
    expect(longestGap([], 100, 600)).toBe(500);
    // Events outside the window do not shorten a gap inside it.
    expect(longestGap([50, 2000], 100, 600)).toBe(500);
    expect(longestGap([400, 200], 0, 500)).toBe(200);
  });

  it("longestNoActive counts only samples with an active node", () => {
    const samples = [sample(0, "a"), sample(100), sample(200), sample(900, "b"), sample(1000, "b")];
    expect(longestNoActive(samples, 0, 1000)).toBe(900);
  });
});

describe("percentile", () => {
  it("is the nearest rank", () => {
    expect(percentile([], 50)).toBe(0);
    expect(percentile([5], 95)).toBe(5);
    expect(percentile([4, 1, 3, 2], 50)).toBe(2);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
  });
});

describe("accountWrites", () => {
  it("counts a write with nothing there, or an older version, as lost", () => {
    const acks = [ack(1, 1), ack(1, 2), { ...ack(1, 3), version: 2 }];
    const account = accountWrites(
      acks,
      new Map([
        [acks[0]?.path as string, found("v1-1", 10)],
        [acks[1]?.path as string, undefined],
        [acks[2]?.path as string, found("v1-3", 30, 1)],
      ]),
    );
    expect(account.acknowledged).toBe(3);
    expect(account.lost).toEqual([acks[1]?.path, acks[2]?.path]);
    expect(account.wrongValue).toEqual([]);
  });

  it("flags another value, and a later write of a writer created before an earlier one", () => {
    const acks = [ack(2, 2), ack(2, 1), ack(1, 1)];
    const account = accountWrites(
      acks,
      new Map([
        [acks[1]?.path as string, found("v2-1", 50)],
        [acks[0]?.path as string, found("v2-2", 40)],
        [acks[2]?.path as string, found("changed", 10)],
      ]),
    );
    expect(account.lost).toEqual([]);
    expect(account.wrongValue).toEqual([acks[2]?.path]);
    expect(account.outOfOrder).toEqual([acks[0]?.path]);
  });
});

const window = {
  fault: "kill" as const,
  round: 1,
  node: "vault-1",
  startT: 0,
  faultT: 1000,
  endT: 20_000,
};

describe("roundResult and summarize", () => {
  it("measures the write gap after the fault, no-active time and split brain inside the round", () => {
    const acks = [ack(1, 5, 500), ack(1, 9, 900), ack(1, 170, 17_000), ack(1, 190, 19_000)];
    const samples = [
      sample(0, "vault-1"),
      sample(1000),
      sample(16_000, "vault-2"),
      sample(18_000, "vault-2", "vault-1"),
      sample(18_500, "vault-2"),
      sample(25_000, "vault-2", "vault-3"),
    ];
    const result = roundResult(window, samples, acks, new Set([acks[3]?.path as string]), ["x"]);
    expect(result.writeGapMs).toBe(16_000);
    expect(result.noActiveMs).toBe(15_000);
    expect(result.splitBrainMs).toBe(500);
    expect(result.splitBrain).toHaveLength(1);
    expect(result.acknowledged).toBe(4);
    expect(result.lost).toBe(1);
    expect(result.notes).toEqual(["x"]);
  });

  it("summarizes per fault, in the order faults ran", () => {
    const round = (fault: RoundResult["fault"], writeGapMs: number, lost = 0): RoundResult => ({
      ...window,
      fault,
      writeGapMs,
      noActiveMs: writeGapMs - 100,
      splitBrainMs: fault === "pause" ? 700 : 0,
      splitBrain: [],
      acknowledged: 10,
      lost,
      notes: [],
    });
    const summary = summarize([
      round("pause", 3000),
      round("kill", 16_000),
      round("kill", 14_000, 2),
      round("kill", 15_000),
    ]);
    expect(summary.map((entry) => entry.fault)).toEqual(["pause", "kill"]);
    expect(summary[1]).toEqual({
      fault: "kill",
      rounds: 3,
      gapP50Ms: 15_000,
      gapP95Ms: 16_000,
      gapMaxMs: 16_000,
      noActiveMaxMs: 15_900,
      lost: 2,
      splitBrainMaxMs: 0,
    });
    expect(summary[0]?.splitBrainMaxMs).toBe(700);
  });
});

describe("verdict", () => {
  const clean = { acknowledged: 5, lost: [], wrongValue: [], outOfOrder: [] };
  const withSplit = (splitBrainMs: number) =>
    ({ ...window, fault: "pause", splitBrainMs }) as unknown as RoundResult;

  it("passes with every write back and a split brain no longer than the lock TTL", () => {
    expect(verdict(clean, [withSplit(LOCK_TTL_MS)])).toEqual([]);
  });

  it("fails on a lost, changed or reordered write, and on no write at all", () => {
    expect(verdict({ ...clean, lost: ["p"] }, [])).toEqual([
      "1 acknowledged write(s) lost (first: p)",
    ]);
    expect(verdict({ ...clean, wrongValue: ["q"], outOfOrder: ["r"] }, [])).toHaveLength(2);
    expect(verdict({ ...clean, acknowledged: 0 }, [])).toEqual([
      "no write was acknowledged at all",
    ]);
  });

  it("fails on a split brain longer than the lock TTL, naming the round", () => {
    expect(verdict(clean, [withSplit(LOCK_TTL_MS + 1)])).toEqual([
      "two nodes active for longer than the lock TTL (15 s) in pause round 1 (15.0 s)",
    ]);
  });
});
