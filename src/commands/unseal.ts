import type { CommandContext } from "../cli-context.js";
import { type ClusterCommandOptions, openCluster } from "./cluster-context.js";

export async function unsealCommand(
  context: CommandContext,
  nodes: string[],
  options: ClusterCommandOptions,
) {
  const cluster = await openCluster(context, options);
  await cluster.checkDocker();
  const unsealed = await cluster.unseal(nodes);
  if (options.json) context.output.json({ unsealed });
  else
    context.output.info(
      unsealed.length > 0 ? `unsealed ${unsealed.join(", ")}` : "no sealed node to unseal",
    );
}
