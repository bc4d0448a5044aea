import type { CommandContext } from "../cli-context.js";
import { type ClusterCommandOptions, openCluster } from "./cluster-context.js";

export async function unsealCommand(
  context: CommandContext,
  nodes: string[],
  options: ClusterCommandOptions,
) {
  const cluster = await openCluster(context, options);
  await cluster.checkDocker();
  const { seal } = cluster.config;
  if (seal.type !== "shamir") {
    if (options.json) context.output.json({ unsealed: [], autoUnseal: seal.type });
    else
      context.output.info(
        `nothing to do: cluster ${cluster.config.project} auto-unseals (seal.type ${seal.type}); every node unseals itself when it starts, and the stored keys are recovery keys, which cannot unseal. If a node stays sealed, run vault-ha up (it unseals the transit Vault first).`,
      );
    return;
  }
  const unsealed = await cluster.unseal(nodes);
  if (options.json) context.output.json({ unsealed });
  else
    context.output.info(
      unsealed.length > 0 ? `unsealed ${unsealed.join(", ")}` : "no sealed node to unseal",
    );
}
