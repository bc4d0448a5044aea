import type { CommandContext } from "../cli-context.js";
import { type ClusterCommandOptions, openCluster } from "./cluster-context.js";

export async function sealCommand(
  context: CommandContext,
  nodes: string[],
  options: ClusterCommandOptions,
) {
  const cluster = await openCluster(context, options);
  await cluster.checkDocker();
  const sealed = await cluster.seal(nodes);
  if (options.json) {
    context.output.json({ sealed });
    return;
  }
  if (sealed.length === 0) context.output.info("no unsealed node to seal");
  for (const entry of sealed) {
    context.output.info(
      entry.how === "api"
        ? `sealed ${entry.name} (sys/seal)`
        : `sealed ${entry.name} by restarting its container (a standby cannot be sealed through the API)`,
    );
  }
  context.output.hint("unseal again: vault-ha unseal");
}
