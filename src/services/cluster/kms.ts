import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { ContainerInfo } from "../../adapters/docker/docker-engine.js";
import { writeFileAtomic } from "../../adapters/fs/atomic-write.js";
import type { KmsKeys } from "../../adapters/kms/kms-keys.js";
import { ConflictError } from "../../core/errors.js";
import { hostUrl } from "../../core/ports-host.js";
import { KMS_EMULATOR_CREDENTIALS, KMS_PORT, KMS_SERVICE } from "../../core/topology.js";
import { waitFor } from "../wait.js";
import { ClusterPart } from "./part.js";

/**
 * The key behind `seal.type: awskms` when vault-ha runs the KMS emulator
 * (moto). moto keeps keys in memory only and cannot import key material, so
 * a restarted emulator has lost the key for good, and with it the cluster's
 * root key: `up` says so and points at `reset` instead of leaving the nodes
 * sealed for ever. The key id is recorded in the state folder.
 */
export class KmsSeal extends ClusterPart {
  get stateFile(): string {
    return path.join(this.deps.keys.dir, "kms.json");
  }

  url(container: ContainerInfo | undefined): string | undefined {
    const published = container?.publishedPorts.get(KMS_PORT);
    if (published) return hostUrl(this.placement.connectHost, published);
    return this.config.seal.hostPort === 0
      ? undefined
      : hostUrl(this.placement.connectHost, this.config.seal.hostPort);
  }

  /** True when the emulator answers and still has the recorded key (a quick check for a warm `up`). */
  async keyPresent(): Promise<boolean> {
    const recorded = await this.recordedKeyId();
    const containers = await this.deps.docker.listProjectContainers(this.config.project);
    const url = this.url(containers.find((container) => container.service === KMS_SERVICE));
    if (!recorded || !url) return false;
    return this.client(url)
      .exists(recorded)
      .catch(() => false);
  }

  private recordedKeyId(): Promise<string | undefined> {
    return readFile(this.stateFile, "utf8").then(
      (text) => (JSON.parse(text) as { keyId?: string }).keyId,
      () => undefined,
    );
  }

  private client(endpoint: string): KmsKeys {
    return this.deps.kms({
      endpoint,
      region: this.config.seal.region,
      ...KMS_EMULATOR_CREDENTIALS,
    });
  }

  /** The emulator's key for the nodes: the recorded one while it exists, a new one for a new cluster. */
  async prepare(endpoint: string, budgetMs: number): Promise<string> {
    const kms = this.client(endpoint);
    const recorded = await this.recordedKeyId();
    const present = await waitFor("the KMS emulator to answer", budgetMs, async () => {
      try {
        return { done: true as const, value: await kms.exists(recorded ?? "alias/vault-ha-none") };
      } catch (error) {
        return { done: false as const, last: (error as Error).message };
      }
    });
    if (recorded && present) return recorded;
    if (recorded && (await this.deps.keys.load()) !== undefined) {
      throw new ConflictError(
        `the KMS emulator no longer has key ${recorded} (it keeps keys in memory only, and it was restarted): cluster ${this.config.project} can never unseal again`,
        [],
        { next: { kind: "reset" } },
      );
    }
    const keyId = await kms.createKey(`vault-ha auto-unseal for ${this.config.project}`);
    await mkdir(this.deps.keys.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.stateFile, `${JSON.stringify({ keyId })}\n`, { mode: 0o600 });
    return keyId;
  }
}
