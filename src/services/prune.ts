import { hostname } from "node:os";
import type { DockerEngine } from "../adapters/docker/docker-engine.js";
import { processIsAlive } from "../adapters/process-alive.js";
import {
  COMPOSE_PROJECT_LABEL,
  LABEL_EPHEMERAL,
  LABEL_PROJECT,
  LABEL_SESSION,
} from "../core/labels.js";
import {
  type PruneVerdict,
  pruneVerdict,
  type Session,
  sessionFromLabels,
} from "../core/session.js";

/** The Docker calls prune needs: finding and removing by label, nothing else. */
export type PruneEngine = Pick<
  DockerEngine,
  | "listContainers"
  | "removeContainer"
  | "listNetworks"
  | "removeNetwork"
  | "listVolumes"
  | "removeVolume"
>;

/** One ephemeral cluster as found on the engine, and whether it is garbage. */
export interface EphemeralCluster {
  readonly project: string;
  readonly session: Session;
  readonly containers: readonly string[];
  readonly networks: readonly string[];
  readonly volumes: readonly string[];
  readonly verdict: PruneVerdict;
}

export { processIsAlive };

/**
 * Every ephemeral cluster on the engine, found by the session label alone:
 * a container, network or volume without it is never listed, so never pruned.
 */
export async function findEphemeralClusters(
  docker: PruneEngine,
  options: {
    olderThanMs?: number;
    now?: Date;
    host?: string;
    isAlive?: (pid: number) => boolean;
    /** Also prune reusable clusters. */
    reuse?: boolean;
  } = {},
): Promise<EphemeralCluster[]> {
  const [containers, networks, volumes] = await Promise.all([
    docker.listContainers({ [LABEL_EPHEMERAL]: "true" }, { all: true }),
    docker.listNetworks({ [LABEL_EPHEMERAL]: "true" }),
    docker.listVolumes({ [LABEL_EPHEMERAL]: "true" }),
  ]);
  const sessions = new Map<
    string,
    {
      project: string;
      session: Session;
      containers: string[];
      networks: string[];
      volumes: string[];
    }
  >();
  const add = (
    labels: Readonly<Record<string, string>>,
    kind: "containers" | "networks" | "volumes",
    name: string,
  ) => {
    const session = sessionFromLabels(labels);
    if (!session) return;
    let entry = sessions.get(session.id);
    if (!entry) {
      entry = {
        project: labels[LABEL_PROJECT] ?? labels[COMPOSE_PROJECT_LABEL] ?? "?",
        session,
        containers: [],
        networks: [],
        volumes: [],
      };
      sessions.set(session.id, entry);
    }
    entry[kind].push(name);
  };
  for (const container of containers) add(container.labels, "containers", container.name);
  for (const network of networks) add(network.labels, "networks", network.name);
  for (const volume of volumes) add(volume.labels, "volumes", volume.name);
  const here = {
    host: options.host ?? hostname(),
    now: options.now ?? new Date(),
    isAlive: options.isAlive ?? processIsAlive,
    ...(options.olderThanMs === undefined ? {} : { olderThanMs: options.olderThanMs }),
    reuse: options.reuse ?? false,
  };
  return [...sessions.values()]
    .map((entry) => ({
      ...entry,
      containers: entry.containers.sort(),
      networks: entry.networks.sort(),
      volumes: entry.volumes.sort(),
      verdict: pruneVerdict(entry.session, here),
    }))
    .sort((a, b) => a.project.localeCompare(b.project));
}

/**
 * Removes every container, then network, then volume carrying this session's
 * label (in that order: a network or volume in use cannot go). Idempotent:
 * what is already gone is not an error, so the owner's stop(), the watchdog
 * and `prune` may race without harm.
 */
export async function removeSession(docker: PruneEngine, sessionId: string): Promise<void> {
  const label = { [LABEL_SESSION]: sessionId };
  const containers = await docker.listContainers(label, { all: true });
  await Promise.all(containers.map((container) => docker.removeContainer(container.id)));
  const networks = await docker.listNetworks(label);
  for (const network of networks) await docker.removeNetwork(network.id);
  const volumes = await docker.listVolumes(label);
  for (const volume of volumes) await docker.removeVolume(volume.name);
}

/** Removes the clusters whose verdict says so; returns them. */
export async function pruneClusters(
  docker: PruneEngine,
  clusters: readonly EphemeralCluster[],
): Promise<EphemeralCluster[]> {
  const doomed = clusters.filter((cluster) => cluster.verdict.prune);
  for (const cluster of doomed) await removeSession(docker, cluster.session.id);
  return doomed;
}
