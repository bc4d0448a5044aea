import { describe, expect, it } from "vitest";
import { fakeReport } from "../../test/support/chaos-report-fixture.js";
import {
  changesOnly,
  renderMarkdown,
  renderTable,
  timelineSpec,
  verdictLine,
} from "./chaos-report.js";

describe("changesOnly", () => {
  it("keeps the samples where the active set changed, and the last", () => {
    const samples = [
      { t: 0, active: ["a"] },
      { t: 100, active: ["a"] },
      { t: 200, active: [] },
      { t: 300, active: ["b", "a"] },
      { t: 400, active: ["a", "b"] },
      { t: 500, active: ["a", "b"] },
    ];
    expect(changesOnly(samples).map((sample) => sample.t)).toEqual([0, 200, 300, 500]);
  });
});

describe("renderTable", () => {
  it("aligns one row per fault and ends with the counts and the verdict", () => {
    const lines = renderTable(fakeReport());
    expect(lines[0]).toMatch(/^fault\s+rounds\s+gap p50\s+gap p95\s+gap max/);
    expect(lines[1]).toMatch(/^kill\s+1\s+15\.4 s\s+15\.4 s\s+15\.4 s\s+15\.0 s\s+0\s+0\.0 s$/);
    expect(lines[2]).toMatch(/^pause .* 0\.6 s$/);
    expect(new Set(lines.slice(0, 3).map((line) => line.length)).size).toBe(1);
    expect(lines[3]).toBe(
      "80 acknowledged writes of 95 attempted; 0 lost, 0 changed, 0 out of order",
    );
    expect(lines[4]).toBe("60 reads through every node: 58 current, 2 without an answer, 0 stale");
    expect(lines[5]).toMatch(/^passed: /);
  });

  it("says what failed", () => {
    const report = fakeReport({ passed: false, failures: ["2 acknowledged write(s) lost", "x"] });
    expect(verdictLine(report)).toBe("failed: 2 acknowledged write(s) lost; x");
  });
});

describe("renderMarkdown", () => {
  it("has the per-fault and per-round tables, escaped, and the reading guide", () => {
    const markdown = renderMarkdown(fakeReport());
    expect(markdown).toContain("# vault-ha chaos: demo");
    expect(markdown).toContain(
      "| fault | rounds | gap p50 | gap p95 | gap max | no active max | lost | split brain max |",
    );
    expect(markdown).toContain("| kill | 1 | 15.4 s | 15.4 s | 15.4 s | 15.0 s | 0 | 0.0 s |");
    expect(markdown).toContain(
      "- reads through every node: 60 (58 current, 2 without an answer, 0 stale)",
    );
    expect(markdown).toContain(
      "| kill | 1 | vault-1 | 15.4 s | 15.0 s | 0.0 s | 40 | 0 | killed vault-1; a\\|b |",
    );
    expect(markdown).toContain("lock TTL (15.0 s)");
    expect(markdown).toContain("- lost: 0\n");
  });

  it("lists the first lost paths", () => {
    const report = fakeReport({
      writes: { acknowledged: 2, attempted: 2, lost: ["p1", "p2"], wrongValue: [], outOfOrder: [] },
    });
    expect(renderMarkdown(report)).toContain("- lost: 2 (p1, p2)");
  });
});

describe("timelineSpec", () => {
  it("puts samples and writes of each round on its panel, in seconds from the fault", () => {
    const spec = timelineSpec(fakeReport(), [
      { t: 900, active: ["vault-1"] },
      { t: 1500, active: [] },
      { t: 2000, active: ["vault-1", "vault-2"] },
      { t: 25_000, active: ["vault-2"] },
    ]);
    const values = spec.data.values;
    const kill = "kill #1 (vault-1)";
    expect(values).toContainEqual({ round: kill, t: -0.1, lane: "vault-1", kind: "active" });
    expect(values).toContainEqual({ round: kill, t: 0.5, lane: "none", kind: "no active" });
    expect(values).toContainEqual({ round: kill, t: 1, lane: "vault-2", kind: "split brain" });
    expect(values).toContainEqual({ round: kill, t: -0.5, lane: "writes", kind: "write ok" });
    expect(values).toContainEqual({ round: kill, t: 0, lane: "fault", kind: "fault" });
    // t 25 000 is between the rounds: on no panel.
    expect(values.filter((value) => value.lane === "vault-2")).toHaveLength(1);
  });
});
