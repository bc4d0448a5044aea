import type { CommandContext } from "../cli-context.js";
import { FLAG_RULES, parseNumberFlag } from "../core/parse-flag.js";
import { type ClusterCommandOptions, openCluster } from "./cluster-context.js";

export async function logsCommand(
  context: CommandContext,
  service: string | undefined,
  options: ClusterCommandOptions & { follow?: boolean; tail?: string },
) {
  const tail =
    options.tail === undefined || options.tail.trim() === "all"
      ? options.tail?.trim()
      : String(parseNumberFlag("--tail", options.tail, FLAG_RULES.logsTail));
  const cluster = await openCluster(context, options);
  await cluster.checkDocker();
  await cluster.checkCompose();
  const { createComposeCli } = await import("../adapters/compose/compose-cli.js");
  await cluster.withComposeTarget((target) =>
    createComposeCli().logs(target, {
      service,
      follow: options.follow ?? false,
      tail,
    }),
  );
}
