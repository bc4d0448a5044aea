import { createInterface } from "node:readline/promises";
import type { CommandContext } from "../cli-context.js";
import { UsageError } from "../core/errors.js";
import { type ClusterCommandOptions, openCluster } from "./cluster-context.js";

export async function resetCommand(
  context: CommandContext,
  options: ClusterCommandOptions & { yes?: boolean },
) {
  const cluster = await openCluster(context, options);
  await cluster.checkDocker();
  const volumes = await cluster.resettableVolumes();
  const what = [
    `containers and network of project ${cluster.config.project}`,
    ...volumes.map((volume) => `volume ${volume}`),
    `state folder ${cluster.keysFile.replace(/\/init\.json$/, "")} (unseal keys and root token)`,
  ];
  if (!options.yes) {
    if (!process.stdin.isTTY || !process.stderr.isTTY) {
      throw new UsageError(
        `reset deletes the cluster's data and keys; run vault-ha reset --yes to confirm without a terminal`,
      );
    }
    process.stderr.write(`This removes:\n${what.map((line) => `  - ${line}`).join("\n")}\n`);
    const prompt = createInterface({ input: process.stdin, output: process.stderr });
    const answer = await prompt.question("Continue? [y/N] ");
    prompt.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      context.output.info("reset cancelled; nothing was removed");
      return;
    }
  }
  const result = await cluster.reset();
  if (options.json) context.output.json({ project: cluster.config.project, ...result });
  else {
    context.output.info(
      `reset ${cluster.config.project}: removed containers${result.volumes.length > 0 ? `, ${result.volumes.join(", ")}` : ""}${result.stateDir ? ` and ${result.stateDir}` : ""}`,
    );
    context.output.hint("start fresh: vault-ha up");
  }
}
