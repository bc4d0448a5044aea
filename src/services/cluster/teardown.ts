import { mkdtemp, readFile, rm } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import type { ComposeTarget } from "../../adapters/compose/compose-cli.js";
import { acquireLock } from "../../adapters/fs/key-store.js";
import { ProjectBusyError } from "../../core/errors.js";
import { LABEL_PROJECT, LABEL_ROLE } from "../../core/labels.js";
import { ClusterPart } from "./part.js";

/** `down`, `reset` and `destroy`, and the project lock they share with `up`. */
export class Teardown extends ClusterPart {
  /**
   * Runs a Compose command against this project. Compose needs a file: the
   * project's own when it exists and still describes this project, else a
   * temporary render, so `down` or `logs` never overwrite a working folder's
   * compose.generated.yml that belongs to another project.
   */
  async withComposeTarget<T>(run: (target: ComposeTarget) => Promise<T>): Promise<T> {
    const existing = await readFile(this.deps.composeFile, "utf8").catch(() => "");
    if (new RegExp(`^name: ${this.config.project}$`, "m").test(existing)) return run(this.target);
    const dir = await mkdtemp(path.join(tmpdir(), `vault-ha-${this.config.project}-`));
    try {
      const file = path.join(dir, "compose.yml");
      await this.writeComposeFileTo(file);
      return await run({ file, project: this.config.project });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Stops and removes containers and network; keeps the data volume and keys. */
  async down(): Promise<void> {
    await this.parts.preflight.checkDocker();
    await this.parts.preflight.checkCompose();
    const lock = await this.lock("down");
    try {
      await this.composeDown();
    } finally {
      await lock.release();
    }
  }

  private composeDown(): Promise<void> {
    return this.withComposeTarget((target) => this.deps.compose.down(target, { volumes: false }));
  }

  /**
   * The project's lock, shared by `up`, `down` and `reset`, so none of them
   * runs while another changes the same cluster. Taking it creates the state
   * folder: callers ask everything that can refuse first.
   */
  async lock(command: string): Promise<{ release(): Promise<void> }> {
    const file = path.join(this.deps.keys.dir, "up.lock");
    const lock = await acquireLock(file);
    if ("heldBy" in lock) {
      const where =
        lock.holder?.host && lock.holder.host !== hostname() ? ` on ${lock.holder.host}` : "";
      throw new ProjectBusyError(
        `another vault-ha up, down or reset for project ${this.config.project} is running (process ${lock.heldBy}${where}); wait for it to finish before ${command}, or use another project for a second cluster (lock file ${file})`,
      );
    }
    return lock;
  }

  /**
   * Removes everything the cluster created, keys aside: containers, network
   * and every volume carrying this project's label. Each step runs even when
   * the one before failed, so a half-started cluster goes too.
   */
  async destroy(): Promise<void> {
    await this.deps.compose.down(this.target, { volumes: true }).catch(() => {});
    const volumes = await this.deps.docker
      .listVolumes({ [LABEL_PROJECT]: this.config.project })
      .catch(() => []);
    for (const volume of volumes) await this.deps.docker.removeVolume(volume.name).catch(() => {});
  }

  /** Forgets the stored keys (the state folder of this project). */
  async forgetKeys(): Promise<void> {
    await this.deps.keys.remove();
  }

  /**
   * Volumes `reset` would remove: exactly those labelled as this project's
   * DynamoDB data or its transit Vault's data (seal.type transit).
   */
  async resettableVolumes(): Promise<string[]> {
    const lists = await Promise.all(
      (["dynamodb-data", "transit-data"] as const).map((role) =>
        this.deps.docker.listVolumes({ [LABEL_PROJECT]: this.config.project, [LABEL_ROLE]: role }),
      ),
    );
    return lists
      .flat()
      .map((volume) => volume.name)
      .sort();
  }

  /** `down`, then the labelled volumes and the state folder. */
  async reset(): Promise<{ volumes: string[]; stateDir: string | undefined }> {
    await this.parts.preflight.checkDocker();
    await this.parts.preflight.checkCompose();
    const hadState = await this.deps.keys.exists();
    const lock = await this.lock("reset");
    try {
      await this.composeDown();
      const volumes = await this.resettableVolumes();
      for (const volume of volumes) await this.deps.docker.removeVolume(volume);
      // The folder goes with the lock inside it; nothing can take it meanwhile.
      await this.deps.keys.remove();
      return { volumes, stateDir: hadState ? this.deps.keys.dir : undefined };
    } catch (error) {
      await lock.release();
      throw error;
    }
  }
}
