import type { CommandContext } from "../cli-context.js";
import { FLAG_RULES, parseNumberFlag } from "../core/parse-flag.js";
import { type ClusterCommandOptions, openCluster } from "./cluster-context.js";

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
