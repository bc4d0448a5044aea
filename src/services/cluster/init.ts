import { rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { StoredKeys } from "../../adapters/fs/key-store.js";
import type { VaultNodeClient } from "../../adapters/vault/vault-node-client.js";
import type { ClusterStatus } from "../../core/cluster-status.js";
import { ClusterNotHealthyError, ConflictError } from "../../core/errors.js";
import { usesAutoUnseal } from "../../core/topology.js";
import { ClusterPart } from "./part.js";

/** `sys/init` and the only copy of its answer: the keys are never lost between the two. */
export class VaultInit extends ClusterPart {
  async initialize(status: ClusterStatus): Promise<StoredKeys> {
    const first = status.nodes.find((node) => node.mode === "uninitialized");
    if (!first?.url)
      throw new ClusterNotHealthyError("no uninitialised node answers", [], {
        next: { kind: "inspect" },
      });
    // The folder must be writable before Vault hands out the only copy of the
    // keys, and a marker says an init is under way: if its answer is lost
    // (timeout, a crash), the next `up` can tell why the keys are missing.
    await this.deps.keys.prepare();
    const pending = path.join(this.deps.keys.dir, INIT_PENDING);
    await writeFile(pending, new Date().toISOString(), { mode: 0o600 });
    let result: Awaited<ReturnType<VaultNodeClient["init"]>>;
    try {
      result = await this.deps
        .vault(first.url)
        .init(this.config.init.keyShares, this.config.init.keyThreshold, {
          recovery: usesAutoUnseal(this.config),
        });
    } catch (error) {
      const after = await this.deps
        .vault(first.url)
        .health()
        .catch(() => undefined);
      if (after?.initialized) throw initAnswerLost(first.name, error);
      await rm(pending, { force: true });
      await this.deps.keys.discardPrepared();
      throw error;
    }
    const keys: StoredKeys = {
      keys: result.keys,
      keysBase64: result.keysBase64,
      rootToken: result.rootToken,
      keyShares: this.config.init.keyShares,
      keyThreshold: this.config.init.keyThreshold,
      initializedAt: new Date().toISOString(),
      // Which data these keys open: set-aside keys then say what they were for.
      storage: this.config.dynamodb.inMemory
        ? `in-memory:${this.config.project}`
        : `dynamodb-volume:${this.config.project}_dynamodb-data`,
      sealType: this.config.seal.type,
    };
    try {
      await this.deps.keys.save(keys);
    } catch (error) {
      // The only copy is in this process: print it once rather than lose it.
      process.stderr.write(
        `\nWARNING: vault-ha could not write ${this.keysFile} (${(error as Error).message}).\nThese are the cluster's ONLY unseal keys and root token. Store them safely now:\n${JSON.stringify(keys, null, 2)}\n\n`,
      );
      throw new ConflictError(
        `could not save the new cluster's keys to ${this.keysFile}; they were printed above once; save them into that file (mode 0600)`,
        [],
        { next: { kind: "up" } },
      );
    }
    await rm(pending, { force: true });
    return keys;
  }

  /** True when an earlier `up` started `sys/init` and never saved its answer. */
  async initWasInterrupted(): Promise<boolean> {
    return stat(path.join(this.deps.keys.dir, INIT_PENDING)).then(
      () => true,
      () => false,
    );
  }
}

/** Written before `sys/init`, removed once its answer (the keys) is saved. */
const INIT_PENDING = "init.pending";

export function initAnswerLost(node: string, cause: unknown): ConflictError {
  const reason = cause instanceof Error ? ` (${cause.message})` : "";
  return new ConflictError(
    `${node} was initialised by an answer that never arrived${reason}: its unseal keys are lost`,
    [],
    { next: { kind: "reset" } },
  );
}
