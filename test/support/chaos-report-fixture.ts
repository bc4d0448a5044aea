import type { RoundResult, WriteAck } from "../../src/core/chaos-model.js";
import type { ChaosReport } from "../../src/core/chaos-report.js";

// A chaos report of two rounds (kill, pause) for the renderers' unit tests.

const round = (fault: RoundResult["fault"], startT: number, notes: string[] = []): RoundResult => ({
  fault,
  round: 1,
  node: "vault-1",
  startT,
  faultT: startT + 1000,
  endT: startT + 20_000,
  writeGapMs: 15_400,
  noActiveMs: 15_000,
  splitBrainMs: fault === "pause" ? 600 : 0,
  splitBrain: [],
  acknowledged: 40,
  lost: 0,
  notes,
});

const ack: WriteAck = {
  path: "chaos/data/run-ab/w1-1",
  writer: 1,
  sequence: 1,
  version: 1,
  value: "x",
  t: 500,
  via: "vault-1",
};

export function fakeReport(overrides: Partial<ChaosReport> = {}): ChaosReport {
  return {
    project: "demo",
    runId: "ab12",
    startedAt: "2026-11-22T10:00:00.000Z",
    faults: ["kill", "pause"],
    writers: 2,
    lockTtlMs: 15_000,
    rounds: [round("kill", 0, ["killed vault-1", "a|b"]), round("pause", 30_000)],
    summary: [
      {
        fault: "kill",
        rounds: 1,
        gapP50Ms: 15_400,
        gapP95Ms: 15_400,
        gapMaxMs: 15_400,
        noActiveMaxMs: 15_000,
        lost: 0,
        splitBrainMaxMs: 0,
      },
      {
        fault: "pause",
        rounds: 1,
        gapP50Ms: 15_400,
        gapP95Ms: 15_400,
        gapMaxMs: 15_400,
        noActiveMaxMs: 15_000,
        lost: 0,
        splitBrainMaxMs: 600,
      },
    ],
    writes: { acknowledged: 80, attempted: 95, lost: [], wrongValue: [], outOfOrder: [] },
    reads: { attempted: 60, ok: 58, failed: 2, stale: 0, staleReads: [] },
    acks: [ack],
    timeline: [],
    passed: true,
    failures: [],
    ...overrides,
  };
}
