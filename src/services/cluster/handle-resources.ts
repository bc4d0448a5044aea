import { spawnSync } from "node:child_process";
import { COMPOSE_PROJECT_LABEL, LABEL_SESSION } from "../../core/labels.js";
import type { Session } from "../../core/session.js";
import { findEphemeralClusters, pruneClusters, removeSession } from "../prune.js";
import { startWatchdog, type Watchdog } from "../watchdog.js";
import { ClusterPart } from "./part.js";
import type { ProjectInventory } from "./types.js";

/** What a startCluster handle created, and how it goes: by id, by session label, or by the watchdog. */
export class HandleResources extends ClusterPart {
  /** Every container, network and volume Compose labelled as this project's. */
  async inventory(): Promise<ProjectInventory> {
    const label = { [COMPOSE_PROJECT_LABEL]: this.config.project };
    const [containers, networks, volumes] = await Promise.all([
      this.deps.docker.listContainers(label, { all: true }),
      this.deps.docker.listNetworks(label),
      this.deps.docker.listVolumes(label),
    ]);
    return {
      containers: containers.map((container) => container.id),
      networks: networks.map((network) => network.id),
      volumes: volumes.map((volume) => volume.name),
    };
  }

  /** Removes exactly these resources (what a handle created), in a removable order. */
  async removeResources(resources: ProjectInventory): Promise<void> {
    await Promise.all(resources.containers.map((id) => this.deps.docker.removeContainer(id)));
    for (const id of resources.networks) await this.deps.docker.removeNetwork(id);
    for (const name of resources.volumes) await this.deps.docker.removeVolume(name);
  }

  /**
   * The synchronous last resort on a plain process exit, when promises no
   * longer run: what exists now minus what existed before, through the
   * docker CLI.
   */
  removeResourcesSync(known: ProjectInventory, before: ProjectInventory): void {
    const label = `label=${COMPOSE_PROJECT_LABEL}=${this.config.project}`;
    const list = (args: string[]) =>
      spawnSync("docker", [...args, "--filter", label], { encoding: "utf8", timeout: 20_000 })
        .stdout?.split("\n")
        .map((line) => line.trim())
        .filter(Boolean) ?? [];
    const now = {
      containers: [...known.containers, ...list(["ps", "-aq", "--no-trunc"])],
      networks: [...known.networks, ...list(["network", "ls", "-q", "--no-trunc"])],
      volumes: [...known.volumes, ...list(["volume", "ls", "-q"])],
    };
    const fresh = (ids: string[], old: readonly string[]) =>
      [...new Set(ids)].filter(
        (id) => !old.some((item) => item.startsWith(id) || id.startsWith(item)),
      );
    const run = (args: string[]) =>
      args.length > 2 && spawnSync("docker", args, { stdio: "ignore", timeout: 60_000 });
    run(["rm", "-f", ...fresh(now.containers, before.containers)]);
    run(["network", "rm", ...fresh(now.networks, before.networks)]);
    run(["volume", "rm", ...fresh(now.volumes, before.volumes)]);
  }

  /** Removes one ephemeral session's resources (by its label, nothing else). */
  removeSession(sessionId: string): Promise<void> {
    return removeSession(this.deps.docker, sessionId);
  }

  removeSessionSync(sessionId: string): void {
    const label = `label=${LABEL_SESSION}=${sessionId}`;
    const list = (args: string[]) =>
      spawnSync("docker", [...args, "--filter", label], { encoding: "utf8", timeout: 20_000 })
        .stdout?.split("\n")
        .map((line) => line.trim())
        .filter(Boolean) ?? [];
    const run = (args: string[], items: string[]) =>
      items.length > 0 &&
      spawnSync("docker", [...args, ...items], { stdio: "ignore", timeout: 60_000 });
    run(["rm", "-f", "-v"], list(["ps", "-aq"]));
    run(["network", "rm"], list(["network", "ls", "-q"]));
    run(["volume", "rm"], list(["volume", "ls", "-q"]));
  }

  /**
   * Removes ephemeral clusters whose owner process is gone (never anything
   * else). Housekeeping for others, so it never fails this start: a dead
   * owner's cluster that is still being created or removed by someone else
   * (its network has endpoints a moment longer) is left to the next prune.
   */
  async pruneDeadOwners(): Promise<void> {
    const clusters = await findEphemeralClusters(this.deps.docker);
    for (const cluster of clusters.filter((candidate) => candidate.verdict.prune)) {
      await pruneClusters(this.deps.docker, [cluster]).catch(() => undefined);
    }
  }

  startWatchdog(session: Session): Watchdog {
    return startWatchdog(session.id, this.deps.env ?? process.env);
  }

  async hasKeys(): Promise<boolean> {
    return (await this.deps.keys.load()) !== undefined;
  }
}
