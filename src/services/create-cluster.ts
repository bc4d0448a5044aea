import path from "node:path";
import { createComposeCli } from "../adapters/compose/compose-cli.js";
import { createDockerEngine } from "../adapters/docker/docker-engine.js";
import { createDynamoDbTable } from "../adapters/dynamodb/dynamodb-table.js";
import { createKeyStore, stateRoot } from "../adapters/fs/key-store.js";
import { createVaultNodeClient } from "../adapters/vault/vault-node-client.js";
import type { Config } from "../core/config-schema.js";
import { createProgress, type Progress } from "../ui/progress.js";
import { ClusterService } from "./cluster.js";
import { DEFAULT_COMPOSE_FILE } from "./compose-file.js";

export interface ClusterOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly composeFile?: string | undefined;
  readonly certsDir?: string | undefined;
  readonly progress?: Progress;
  /** Per-request budget for Vault and DynamoDB polls. */
  readonly requestTimeoutMs?: number;
}

/** Wires the real adapters: dockerode, the Compose CLI, node-vault, the AWS SDK, files. */
export function createCluster(config: Config, options: ClusterOptions): ClusterService {
  const timeout = options.requestTimeoutMs ?? 2_000;
  return new ClusterService(config, {
    docker: createDockerEngine(),
    compose: createComposeCli(),
    vault: (url) => createVaultNodeClient(url, timeout),
    dynamodb: (target) => createDynamoDbTable(target, timeout),
    keys: createKeyStore(stateRoot(options.env), config.project),
    progress: options.progress ?? createProgress(),
    composeFile: path.resolve(options.cwd, options.composeFile ?? DEFAULT_COMPOSE_FILE),
    certsDir: options.certsDir,
  });
}
