import type {
  FaultSummary,
  ObserverSample,
  RoundKind,
  RoundResult,
  WriteAccount,
  WriteAck,
} from "./chaos-model.js";

/** Everything one `vault-ha chaos` run measured: what --json prints and report.json holds. */
export interface ChaosReport {
  readonly project: string;
  readonly runId: string;
  readonly startedAt: string;
  readonly faults: readonly RoundKind[];
  readonly writers: number;
  readonly lockTtlMs: number;
  readonly rounds: readonly RoundResult[];
  readonly summary: readonly FaultSummary[];
  readonly writes: Omit<WriteAccount, "acknowledged"> & {
    readonly acknowledged: number;
    readonly attempted: number;
  };
  /**
   * Reads of acknowledged writes through every node (and the balancer):
   * informational, since a standby forwards reads to the active node; a
   * stale read is reported, never failed.
   */
  readonly reads: {
    readonly attempted: number;
    readonly ok: number;
    readonly failed: number;
    readonly stale: number;
    readonly staleReads: readonly { path: string; via: string; t: number }[];
  };
  /** Every acknowledged write (path, version, value, time), for an independent check. */
  readonly acks: readonly WriteAck[];
  /** The observer's samples where the set of active nodes changed (and the last one). */
  readonly timeline: readonly ObserverSample[];
  readonly passed: boolean;
  readonly failures: readonly string[];
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Only the samples where the active set changed: the timeline without its repeats. */
export function changesOnly(samples: readonly ObserverSample[]): ObserverSample[] {
  const kept: ObserverSample[] = [];
  let previous = "";
  for (const [index, sample] of samples.entries()) {
    const key = [...sample.active].sort().join(",");
    if (key !== previous || index === samples.length - 1) kept.push(sample);
    previous = key;
  }
  return kept;
}

const HEADER = [
  "fault",
  "rounds",
  "gap p50",
  "gap p95",
  "gap max",
  "no active max",
  "lost",
  "split brain max",
];

function summaryRows(summary: readonly FaultSummary[]): string[][] {
  return summary.map((entry) => [
    entry.fault,
    String(entry.rounds),
    seconds(entry.gapP50Ms),
    seconds(entry.gapP95Ms),
    seconds(entry.gapMaxMs),
    seconds(entry.noActiveMaxMs),
    String(entry.lost),
    seconds(entry.splitBrainMaxMs),
  ]);
}

/** The per-fault table for a terminal: aligned columns, then the verdict line. */
export function renderTable(report: ChaosReport): string[] {
  const rows = [HEADER, ...summaryRows(report.summary)];
  const widths = HEADER.map((_, column) =>
    Math.max(...rows.map((row) => (row[column] ?? "").length)),
  );
  const lines = rows.map((row) =>
    row
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join("  "),
  );
  lines.push(
    `${report.writes.acknowledged} acknowledged writes of ${report.writes.attempted} attempted; ${report.writes.lost.length} lost, ${report.writes.wrongValue.length} changed, ${report.writes.outOfOrder.length} out of order`,
  );
  lines.push(
    `${report.reads.attempted} reads through every node: ${report.reads.ok} current, ${report.reads.failed} without an answer, ${report.reads.stale} stale`,
  );
  lines.push(verdictLine(report));
  return lines;
}

export function verdictLine(report: ChaosReport): string {
  return report.passed
    ? `passed: every acknowledged write read back, no split brain beyond the lock TTL (${seconds(report.lockTtlMs)})`
    : `failed: ${report.failures.join("; ")}`;
}

const cell = (text: string) => text.replaceAll("|", "\\|");

/** report.md: the tables a reviewer reads, and how to read them. */
export function renderMarkdown(report: ChaosReport): string {
  const table = (header: readonly string[], rows: readonly (readonly string[])[]) =>
    [
      `| ${header.join(" | ")} |`,
      `|${header.map(() => "---").join("|")}|`,
      ...rows.map((row) => `| ${row.map(cell).join(" | ")} |`),
    ].join("\n");
  const roundRows = report.rounds.map((round) => [
    round.fault,
    String(round.round),
    round.node,
    seconds(round.writeGapMs),
    seconds(round.noActiveMs),
    seconds(round.splitBrainMs),
    String(round.acknowledged),
    String(round.lost),
    round.notes.join("; "),
  ]);
  return `# vault-ha chaos: ${report.project}

Run ${report.runId}, started ${report.startedAt}; faults ${report.faults.join(", ")}; ${report.writers} writers.

**${verdictLine(report)}**

## Per fault

${table(HEADER, summaryRows(report.summary))}

## Per round

${table(["fault", "round", "node", "write gap", "no active", "split brain", "acked", "lost", "notes"], roundRows)}

## Writes

- acknowledged: ${report.writes.acknowledged} of ${report.writes.attempted} attempted
- lost: ${report.writes.lost.length}${report.writes.lost.length > 0 ? ` (${report.writes.lost.slice(0, 10).join(", ")})` : ""}
- read back with another value or version: ${report.writes.wrongValue.length}
- applied out of order: ${report.writes.outOfOrder.length}
- reads through every node: ${report.reads.attempted} (${report.reads.ok} current, ${report.reads.failed} without an answer, ${report.reads.stale} stale)

## How to read this

- **write gap**: the longest time, from the fault until the cluster was healed and steady, in which no write was acknowledged.
- **no active**: the longest time in which no node answered active on sys/health or sys/leader (polled every ~100 ms).
- **split brain**: the longest time two nodes answered active at once. A short one after a paused or cut-off node comes back is Vault's design (the old active notices the lost lock at its next check); only one longer than the lock TTL (${seconds(report.lockTtlMs)}) fails the run.
- **lost**: writes Vault acknowledged that are not there when read back at the end. Any lost write fails the run.

timeline.svg shows, per round, which node was active over time and when writes were acknowledged.
`;
}

/**
 * A Vega-Lite specification of the timeline: one panel per round, the
 * active node(s) over time as ticks, and acknowledged writes as ticks on a
 * "writes" row; a rule marks the fault. Pure data, rendered elsewhere.
 */
export function timelineSpec(report: ChaosReport, samples: readonly ObserverSample[]) {
  const values: { round: string; t: number; lane: string; kind: string }[] = [];
  const faults: { round: string; t: number }[] = [];
  for (const round of report.rounds) {
    const label = `${round.fault} #${round.round} (${round.node})`;
    const inRound = (t: number) => t >= round.startT && t <= round.endT;
    const at = (t: number) => Math.round(t - round.faultT) / 1000;
    faults.push({ round: label, t: 0 });
    for (const sample of samples) {
      if (!inRound(sample.t)) continue;
      const lanes = sample.active.length === 0 ? ["none"] : sample.active;
      const kind =
        sample.active.length === 0
          ? "no active"
          : sample.active.length > 1
            ? "split brain"
            : "active";
      for (const lane of lanes) values.push({ round: label, t: at(sample.t), lane, kind });
    }
    for (const ack of report.acks) {
      if (inRound(ack.t))
        values.push({ round: label, t: at(ack.t), lane: "writes", kind: "write ok" });
    }
  }
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: `vault-ha chaos ${report.project}: active node and acknowledged writes (s from the fault)`,
    data: {
      values: [...values, ...faults.map((fault) => ({ ...fault, lane: "fault", kind: "fault" }))],
    },
    facet: { row: { field: "round", type: "nominal", title: null } },
    spec: {
      width: 640,
      height: 120,
      layer: [
        {
          transform: [{ filter: "datum.kind !== 'fault'" }],
          mark: { type: "tick", thickness: 2 },
          encoding: {
            x: { field: "t", type: "quantitative", title: "seconds from the fault" },
            y: { field: "lane", type: "nominal", title: null },
            color: {
              field: "kind",
              type: "nominal",
              scale: {
                domain: ["active", "split brain", "no active", "write ok"],
                range: ["#2b8a3e", "#c92a2a", "#868e96", "#1c7ed6"],
              },
            },
          },
        },
        {
          transform: [{ filter: "datum.kind === 'fault'" }],
          mark: { type: "rule", color: "#e67700", strokeDash: [4, 2] },
          encoding: { x: { field: "t", type: "quantitative" } },
        },
      ],
    },
  };
}
