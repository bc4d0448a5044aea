import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import path from "node:path";
import type { CommandContext } from "../cli-context.js";
import { newSession, reuseIdentity } from "../core/ephemeral.js";
import { DEFAULT_COMPOSE_FILE } from "../core/files.js";
import type { ClusterService } from "../services/cluster.js";
import { createProgress } from "../ui/progress.js";

export interface ClusterCommandOptions {
  readonly file?: string;
  readonly certs?: string;
  readonly json?: boolean;
  readonly ephemeral?: boolean;
  /** An ephemeral cluster kept between runs, found again by its configuration. */
  readonly reuse?: boolean;
  /** Per-request budget of Vault and DynamoDB calls (default 2 s). */
  readonly requestTimeoutMs?: number;
}

/** Loads configuration and wires the cluster service for one command. */
export async function openCluster(
  context: CommandContext,
  options: ClusterCommandOptions,
): Promise<ClusterService> {
  const { config: fromLayers, sources } = await context.loadConfig();
  const [{ stateRoot }, { readTopology, withRecordedTopology }] = await Promise.all([
    import("../adapters/fs/key-store.js"),
    import("../services/topology-file.js"),
  ]);
  // A new cluster (--ephemeral, --reuse) takes nothing from one recorded before.
  const loaded =
    options.ephemeral || options.reuse
      ? fromLayers
      : withRecordedTopology(
          fromLayers,
          sources,
          readTopology(path.join(stateRoot(context.env), fromLayers.project)),
        );
  // The project is named after the configuration, so the next run with the
  // same settings finds this cluster; no owner process, so no prune without --reuse.
  const reuse = options.reuse ? reuseIdentity(loaded, hostname(), new Date()) : undefined;
  const config = reuse ? { ...loaded, project: reuse.project } : loaded;
  const [{ createCluster }, { commandLineOwner }] = await Promise.all([
    import("../services/create-cluster.js"),
    import("../services/command-line-owner.js"),
  ]);
  return createCluster(config, {
    cwd: context.cwd,
    env: context.env,
    // The flag's default is the default file; only an explicit other name counts.
    composeFile: options.file === DEFAULT_COMPOSE_FILE ? undefined : options.file,
    ephemeral: options.ephemeral || options.reuse,
    // An ephemeral cluster from the command line belongs to the shell or
    // script that ran vault-ha: `prune` removes it once that is gone.
    ...(reuse
      ? { session: reuse.session }
      : options.ephemeral
        ? {
            session: newSession(
              randomBytes(8).toString("hex"),
              { pid: commandLineOwner(), host: hostname() },
              new Date(),
            ),
          }
        : {}),
    requestTimeoutMs: options.requestTimeoutMs,
    certsDir: options.certs,
    progress: createProgress(process.stderr),
  });
}
