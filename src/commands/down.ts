import type { CommandContext } from "../cli-context.js";
import { type ClusterCommandOptions, openCluster } from "./cluster-context.js";

export async function downCommand(context: CommandContext, options: ClusterCommandOptions) {
  const cluster = await openCluster(context, options);
  await cluster.down();
  if (options.json) context.output.json({ project: cluster.config.project, down: true });
  else {
    context.output.info(
      `cluster ${cluster.config.project} is down; its data volume and keys are kept`,
    );
    context.output.hint(
      "bring the same cluster back: vault-ha up   ·   remove everything: vault-ha reset",
    );
  }
}
