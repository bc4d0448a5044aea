import path from "node:path";
import type { CommandContext } from "../cli-context.js";
import type { ChaosReport } from "../core/chaos-report.js";
import { ClusterNotHealthyError, UsageError } from "../core/errors.js";
import { parseNumberFlag } from "../core/parse-flag.js";
import type { UpgradeResult } from "../services/cluster.js";
import { type ClusterCommandOptions, openCluster } from "./cluster-context.js";

export interface UpgradeOptions extends ClusterCommandOptions {
  readonly image?: string;
  readonly force?: boolean;
  readonly writers?: string;
  readonly report?: string;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export async function upgradeCommand(context: CommandContext, options: UpgradeOptions) {
  if (!options.image) {
    throw new UsageError(
      "upgrade needs the image to move to: vault-ha upgrade --image hashicorp/vault:X.Y.Z",
    );
  }
  const writers = parseNumberFlag("--writers", options.writers ?? "2", {
    min: 0,
    max: 32,
    integer: true,
    allowed: "a whole number of writers from 0 (no workload) to 32, such as --writers 4",
  });
  // --image is the configuration's vault.image for this run (cli.ts), so it
  // is checked like any other value and wins over the recorded one.
  const cluster = await openCluster(context, options);
  await cluster.checkDocker();
  const force = options.force === true;
  // Refused before the workload writes anything: a downgrade, an unhealthy cluster.
  const { planUpgrade } = await import("../core/upgrade-plan.js");
  planUpgrade(await cluster.snapshot({ storage: false }), cluster.config.vault.image, { force });

  let result: UpgradeResult | undefined;
  let report: ChaosReport | undefined;
  if (writers === 0) {
    result = await cluster.upgrade({ force });
  } else {
    const { runRounds } = await import("../services/chaos/run-chaos.js");
    const run = await runRounds(
      cluster,
      [
        {
          fault: "upgrade",
          round: 1,
          heal: false,
          async act(before) {
            result = await cluster.upgrade({ force });
            return {
              node: before.active as string,
              notes: result.nodes.map(
                (node) =>
                  `${node.name} ${node.from ?? "?"} → ${node.to ?? "?"} in ${seconds(node.elapsedMs)}`,
              ),
            };
          },
        },
      ],
      { writers },
    );
    report = run.report;
    if (options.report) {
      const { writeReportFiles } = await import("../services/chaos/report-files.js");
      const written = await writeReportFiles(
        path.resolve(context.cwd, options.report),
        run.report,
        run.samples,
      );
      context.output.hint(
        `report: ${written.map((file) => path.relative(context.cwd, file)).join(", ")}`,
      );
    }
  }
  const done = result as UpgradeResult;
  const round = report?.rounds[0];
  if (options.json) {
    context.output.json({
      project: cluster.config.project,
      image: done.image,
      to: done.plan.to,
      nodes: done.nodes,
      stepDown: done.stepDown,
      elapsedMs: done.elapsedMs,
      active: done.status.active,
      ...(report && round
        ? {
            workload: {
              writers,
              writeGapMs: round.writeGapMs,
              noActiveMs: round.noActiveMs,
              splitBrainMs: round.splitBrainMs,
              acknowledged: report.writes.acknowledged,
              lost: report.writes.lost.length,
              passed: report.passed,
            },
          }
        : {}),
    });
  } else {
    const { output } = context;
    output.info(
      `cluster ${cluster.config.project} upgraded to ${done.image} in ${seconds(done.elapsedMs)}, one node at a time; ${done.status.active} is active`,
    );
    for (const node of done.nodes)
      output.info(
        `  ${node.name.padEnd(8)} ${node.from ?? "?"} → ${node.to ?? "?"}  serving again after ${seconds(node.elapsedMs)}`,
      );
    if (done.stepDown.from !== done.stepDown.to)
      output.info(
        `  ${done.stepDown.from} stepped down before its turn; ${done.stepDown.to} took over in ${seconds(done.stepDown.elapsedMs)}`,
      );
    if (report && round)
      output.info(
        `  under ${writers} writers: longest gap without a write ${seconds(round.writeGapMs)}, without an active node ${seconds(round.noActiveMs)}; ${report.writes.acknowledged} writes acknowledged, ${report.writes.lost.length} lost`,
      );
    output.hint("later commands use the new image (recorded in the state folder)");
  }
  if (report && !report.passed) {
    const { verdictLine } = await import("../core/chaos-report.js");
    throw new ClusterNotHealthyError(`the upgrade finished, but ${verdictLine(report)}`);
  }
}
