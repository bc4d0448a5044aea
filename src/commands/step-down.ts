import type { CommandContext } from "../cli-context.js";
import { type ClusterCommandOptions, openCluster } from "./cluster-context.js";

export async function stepDownCommand(context: CommandContext, options: ClusterCommandOptions) {
  const cluster = await openCluster(context, options);
  await cluster.checkDocker();
  const result = await cluster.stepDown();
  if (options.json) context.output.json(result);
  else
    context.output.info(
      `${result.from} stepped down; ${result.to} is active after ${(result.elapsedMs / 1000).toFixed(1)} s`,
    );
}
