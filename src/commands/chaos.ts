import path from "node:path";
import type { CommandContext } from "../cli-context.js";
import { parseFaults } from "../core/chaos-model.js";
import { renderTable, verdictLine } from "../core/chaos-report.js";
import { durationSeconds } from "../core/configure-compare.js";
import { ClusterNotHealthyError, UsageError } from "../core/errors.js";
import { parseNumberFlag } from "../core/parse-flag.js";
import { type ClusterCommandOptions, openCluster } from "./cluster-context.js";

export interface ChaosCommandOptions extends ClusterCommandOptions {
  readonly faults?: string;
  readonly rounds?: string;
  readonly writers?: string;
  readonly report?: string;
  readonly duration?: string;
}

export async function chaosCommand(context: CommandContext, options: ChaosCommandOptions) {
  // Every flag is checked before the cluster is touched.
  const faults = parseFaults(options.faults);
  const rounds = parseNumberFlag("--rounds", options.rounds ?? "1", {
    min: 1,
    max: 1000,
    integer: true,
    allowed: "a whole number of rounds per fault from 1 to 1000, such as --rounds 5",
  });
  const writers = parseNumberFlag("--writers", options.writers ?? "2", {
    min: 1,
    max: 32,
    integer: true,
    allowed: "a whole number of writers from 1 to 32, such as --writers 4",
  });
  const holdSeconds =
    options.duration === undefined ? undefined : durationSeconds(options.duration);
  if (
    options.duration !== undefined &&
    (holdSeconds === undefined || holdSeconds < 1 || holdSeconds > 600)
  ) {
    throw new UsageError(
      `--duration ${options.duration} is not a duration from 1s to 10m; give it as 20s, 45s or 2m (how long pause, partition and dynamodb-pause hold)`,
    );
  }
  const cluster = await openCluster(context, options);
  const [{ runChaos, refuseImpossible }, { locateEngine }, { connectEngine }] = await Promise.all([
    import("../services/chaos/run-chaos.js"),
    import("../adapters/docker/engine-location.js"),
    import("../adapters/docker/connect-engine.js"),
  ]);
  refuseImpossible(cluster, faults);
  const docker = connectEngine(
    context.env,
    locateEngine(context.env, cluster.config.bindAddress).endpoint,
  );
  const { report, samples } = await runChaos(cluster, docker, {
    faults,
    rounds,
    writers,
    ...(holdSeconds !== undefined ? { holdMs: holdSeconds * 1000 } : {}),
    note: (line) => context.output.hint(line),
  });
  if (options.report) {
    const { writeReportFiles } = await import("../services/chaos/report-files.js");
    const written = await writeReportFiles(
      path.resolve(context.cwd, options.report),
      report,
      samples,
    );
    context.output.hint(
      `report: ${written.map((file) => path.relative(context.cwd, file)).join(", ")}`,
    );
  }
  if (options.json) context.output.json(report);
  else for (const line of renderTable(report)) context.output.info(line);
  if (!report.passed) throw new ClusterNotHealthyError(verdictLine(report));
}
