import type { CommandContext } from "../cli-context.js";
import { UsageError } from "../core/errors.js";
import { formatAge, parseDuration } from "../core/session.js";

export interface PruneOptions {
  readonly yes?: boolean;
  readonly olderThan?: string;
  readonly json?: boolean;
  /** Also remove reusable clusters (kept otherwise, whatever their owner). */
  readonly reuse?: boolean;
}

/**
 * Lists ephemeral clusters (those with a session label) and, with --yes,
 * removes the ones whose owner process is gone (or that are older than
 * --older-than). Clusters without the label, such as `vault-ha up`'s default
 * project, are never listed and never touched.
 */
export async function pruneCommand(context: CommandContext, options: PruneOptions) {
  const olderThanMs =
    options.olderThan === undefined ? undefined : parseDuration(options.olderThan);
  if (options.olderThan !== undefined && olderThanMs === undefined) {
    throw new UsageError(
      `--older-than ${options.olderThan} is not a duration; use a whole number with s, m, h or d (e.g. 30m)`,
    );
  }
  const [{ connectEngine }, { findEphemeralClusters, pruneClusters }] = await Promise.all([
    import("../adapters/docker/connect-engine.js"),
    import("../services/prune.js"),
  ]);
  const docker = connectEngine(context.env);
  await docker.ping();
  const clusters = await findEphemeralClusters(docker, {
    ...(olderThanMs === undefined ? {} : { olderThanMs }),
    reuse: options.reuse === true,
  });
  const removed = options.yes ? await pruneClusters(docker, clusters) : [];
  if (options.json) {
    context.output.json({
      clusters: clusters.map((cluster) => ({
        project: cluster.project,
        session: cluster.session.id,
        ownerPid: cluster.session.ownerPid,
        reusable: cluster.session.reuse !== undefined,
        ownerHost: cluster.session.ownerHost,
        startedAt: cluster.session.startedAt,
        prunable: cluster.verdict.prune,
        reason: cluster.verdict.reason,
        removed: removed.includes(cluster),
        containers: cluster.containers,
        networks: cluster.networks,
        volumes: cluster.volumes,
      })),
    });
    return;
  }
  const { output } = context;
  if (clusters.length === 0) {
    output.info("no ephemeral clusters on this engine");
    return;
  }
  const now = Date.now();
  for (const cluster of clusters) {
    const age = formatAge(now - Date.parse(cluster.session.startedAt));
    const state = removed.includes(cluster)
      ? "removed"
      : cluster.verdict.prune
        ? "prunable"
        : "kept";
    output.info(
      `${state.padEnd(8)} ${cluster.project.padEnd(16)} ${cluster.containers.length} containers, ${cluster.volumes.length} volumes, started ${age} ago: ${cluster.verdict.reason}`,
    );
  }
  const prunable = clusters.filter((cluster) => cluster.verdict.prune);
  if (!options.yes && prunable.length > 0) {
    output.hint(
      `remove the ${prunable.length} prunable cluster${prunable.length === 1 ? "" : "s"}: vault-ha prune --yes${options.reuse ? " --reuse" : ""}`,
    );
  }
}
