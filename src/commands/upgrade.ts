import type { CommandContext } from "../cli-context.js";
import { UsageError } from "../core/errors.js";
import { type ClusterCommandOptions, openCluster } from "./cluster-context.js";

export interface UpgradeOptions extends ClusterCommandOptions {
  readonly image?: string;
  readonly force?: boolean;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export async function upgradeCommand(context: CommandContext, options: UpgradeOptions) {
  if (!options.image) {
    throw new UsageError(
      "upgrade needs the image to move to: vault-ha upgrade --image hashicorp/vault:X.Y.Z",
    );
  }
  // --image is the configuration's vault.image for this run (cli.ts), so it
  // is checked like any other value and wins over the recorded one.
  const cluster = await openCluster(context, options);
  const result = await cluster.upgrade({ force: options.force === true });
  if (options.json) {
    context.output.json({
      project: cluster.config.project,
      image: result.image,
      to: result.plan.to,
      nodes: result.nodes,
      stepDown: result.stepDown,
      elapsedMs: result.elapsedMs,
      active: result.status.active,
    });
    return;
  }
  const { output } = context;
  output.info(
    `cluster ${cluster.config.project} upgraded to ${result.image} in ${seconds(result.elapsedMs)}, one node at a time; ${result.status.active} is active`,
  );
  for (const node of result.nodes)
    output.info(
      `  ${node.name.padEnd(8)} ${node.from ?? "?"} → ${node.to ?? "?"}  serving again after ${seconds(node.elapsedMs)}`,
    );
  if (result.stepDown.from !== result.stepDown.to)
    output.info(
      `  ${result.stepDown.from} stepped down before its turn; ${result.stepDown.to} took over in ${seconds(result.stepDown.elapsedMs)}`,
    );
  output.hint("later commands use the new image (recorded in the state folder)");
}
