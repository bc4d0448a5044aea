import type { CommandContext } from "../cli-context.js";
import { UsageError } from "../core/errors.js";
import type { ClusterService } from "../services/cluster.js";
import type { ConfigureChange } from "../services/configure.js";
import { type ClusterCommandOptions, openCluster } from "./cluster-context.js";

export interface ConfigureOptions extends ClusterCommandOptions {
  readonly dryRun?: boolean;
}

/** Reads and checks the cluster's declared configuration (undefined: none declared). */
export async function declaredConfiguration(context: CommandContext, cluster: ClusterService) {
  const { readExternalConfig } = await import("../services/configure.js");
  return readExternalConfig(cluster.config.configure, context.cwd, context.env);
}

/** Applies it on the active node with the stored root token. */
export async function applyDeclared(
  cluster: ClusterService,
  declared: NonNullable<Awaited<ReturnType<typeof declaredConfiguration>>>,
  dryRun = false,
): Promise<ConfigureChange[]> {
  const { applyExternalConfig } = await import("../services/configure.js");
  return applyExternalConfig(await cluster.activeApi(), declared, { dryRun });
}

export function changeLines(changes: readonly ConfigureChange[], dryRun: boolean): string[] {
  if (changes.length === 0)
    return ["configure: Vault already matches the configuration; nothing to change"];
  const verbs = dryRun
    ? ({ create: "would create", update: "would update", delete: "would delete" } as const)
    : ({ create: "created", update: "updated", delete: "deleted" } as const);
  return [
    `configure: ${changes.length} change${changes.length === 1 ? "" : "s"}${dryRun ? " planned (dry run, nothing written)" : ""}`,
    ...changes.map((item) => `  ${verbs[item.action]} ${item.what}  (${item.path})`),
  ];
}

export async function configureCommand(context: CommandContext, options: ConfigureOptions) {
  const cluster = await openCluster(context, options);
  const declared = await declaredConfiguration(context, cluster);
  if (!declared) {
    throw new UsageError(
      "no configuration to apply: give --configure FILE, or set configure: in vault-ha.config.yaml",
    );
  }
  await cluster.checkDocker();
  const dryRun = options.dryRun === true;
  const changes = await applyDeclared(cluster, declared, dryRun);
  if (options.json) context.output.json({ project: cluster.config.project, dryRun, changes });
  else for (const line of changeLines(changes, dryRun)) context.output.info(line);
}
