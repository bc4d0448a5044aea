import type { CommandContext } from "../cli-context.js";
import type { ClusterService } from "../services/cluster.js";
import { createProgress } from "../ui/progress.js";

export interface ClusterCommandOptions {
  readonly file?: string;
  readonly certs?: string;
  readonly json?: boolean;
  readonly ephemeral?: boolean;
  /** Per-request budget of Vault and DynamoDB calls (default 2 s). */
  readonly requestTimeoutMs?: number;
}

/** Loads configuration and wires the cluster service for one command. */
export async function openCluster(
  context: CommandContext,
  options: ClusterCommandOptions,
): Promise<ClusterService> {
  const { config } = await context.loadConfig();
  const { createCluster } = await import("../services/create-cluster.js");
  return createCluster(config, {
    cwd: context.cwd,
    env: context.env,
    // "compose.generated.yml" is the flag's default; only an explicit other name counts.
    composeFile: options.file === "compose.generated.yml" ? undefined : options.file,
    ephemeral: options.ephemeral,
    requestTimeoutMs: options.requestTimeoutMs,
    certsDir: options.certs,
    progress: createProgress(process.stderr),
  });
}
