import type { CommandContext } from "../cli-context.js";
import { FLAG_RULES, parseNumberFlag } from "../core/parse-flag.js";
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

export async function waitCommand(
  context: CommandContext,
  options: ClusterCommandOptions & { timeout?: string },
) {
  const seconds = parseNumberFlag("--timeout", options.timeout ?? "60", FLAG_RULES.waitTimeout);
  const cluster = await openCluster(context, options);
  await cluster.checkDocker();
  const status = await cluster.waitForActive(seconds * 1000);
  if (options.json) context.output.json(status);
  else
    context.output.info(
      `cluster ${status.project} is ready: ${status.active} active, ${status.nodes.length - 1} standby`,
    );
}
