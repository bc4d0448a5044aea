import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { ComposeCli } from "../adapters/compose/compose-cli.js";
import { connectEngine } from "../adapters/docker/connect-engine.js";
import { locateEngine } from "../adapters/docker/engine-location.js";
import { createDynamoDbTable } from "../adapters/dynamodb/dynamodb-table.js";
import { createKeyStore, stateRoot } from "../adapters/fs/key-store.js";
import { createKmsKeys } from "../adapters/kms/kms-keys.js";
import { createVaultNodeClient } from "../adapters/vault/vault-node-client.js";
import type { Config } from "../core/config-schema.js";
import { composeEnvironment } from "../core/engine-endpoint.js";
import { type Progress, SILENT } from "../core/progress.js";
import type { Session } from "../core/session.js";
import { createBuildCache } from "./build-cache.js";
import { ClusterService } from "./cluster.js";
import { DEFAULT_COMPOSE_FILE, resolveCertsDir } from "./compose-file.js";
import { lazyAdapter } from "./lazy-adapter.js";
import { readSession } from "./session-file.js";
import { tlsDir } from "./tls-material.js";

const readTextIfPresent = (file: string) => {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
};

export interface ClusterOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly composeFile?: string | undefined;
  readonly certsDir?: string | undefined;
  readonly progress?: Progress;
  /** Keep the Compose file in the state folder instead of the working folder. */
  readonly ephemeral?: boolean;
  /** Where keys are kept instead of the state root (an ephemeral API cluster's own folder). */
  readonly keysRoot?: string;
  /** Per-request budget for Vault and DynamoDB polls. */
  readonly requestTimeoutMs?: number;
  /**
   * A new ephemeral cluster's session. Without one, the session an earlier
   * `up --ephemeral` recorded in the project's state folder is used, so a
   * later `up` renders the same labels and recreates nothing.
   */
  readonly session?: Session;
}

/**
 * Wires the real adapters: the Docker Engine API, the Compose CLI, Vault's
 * HTTP API, the AWS SDK, files. The Compose CLI (execa) is imported on its
 * first call: status, env, wait and a warm `up` never run Compose.
 */
export function createCluster(config: Config, options: ClusterOptions): ClusterService {
  const timeout = options.requestTimeoutMs ?? 2_000;
  const keys = createKeyStore(options.keysRoot ?? stateRoot(options.env), config.project);
  // An ephemeral cluster keeps its Compose file beside its keys, so it never
  // overwrites the working folder's compose.generated.yml, and later commands
  // naming its project find it there.
  const privateFile = path.join(keys.dir, "compose.yml");
  const composeFile = options.composeFile
    ? path.resolve(options.cwd, options.composeFile)
    : options.ephemeral || existsSync(privateFile)
      ? privateFile
      : path.resolve(options.cwd, DEFAULT_COMPOSE_FILE);
  // One engine for every part: the Engine API, Compose and the watchdog.
  const { endpoint, placement } = locateEngine(options.env, config.bindAddress);
  const engineEnv = composeEnvironment(endpoint, options.env);
  const docker = connectEngine(options.env, endpoint);
  // Read when a node is first asked: `up` makes the CA before any node starts.
  let ca: string | undefined;
  const caPem = () => {
    if (!config.tls) return undefined;
    ca ??= readTextIfPresent(tlsDir(keys.dir, "ca.pem"));
    return ca;
  };
  return new ClusterService(config, {
    docker,
    placement,
    compose: lazyAdapter<ComposeCli>(
      async () => (await import("../adapters/compose/compose-cli.js")).createComposeCli(engineEnv),
      { version: true, build: true, start: true, down: true, exec: true, logs: true },
    ),
    // With tls, every request verifies the node against the cluster's own CA.
    vault: (url) => createVaultNodeClient(url, timeout, { ca: caPem() }),
    dynamodb: (target) => createDynamoDbTable(target, timeout),
    kms: (target) => createKmsKeys(target),
    keys,
    // A library stays quiet unless asked: the CLI passes its terminal renderer.
    progress: options.progress ?? SILENT,
    composeFile,
    certsDir: options.certsDir,
    session: sessionFor(options.session, readSession(keys.dir)),
    env: engineEnv,
    buildCache: createBuildCache({
      config,
      docker,
      certsDir: resolveCertsDir(path.dirname(composeFile), options.certsDir),
      stateRoot: stateRoot(options.env),
      mode: options.env.VAULT_HA_BUILD,
    }),
  });
}

/**
 * A reusable cluster's later runs keep the session its first run recorded
 * (same labels, so Compose recreates nothing); any other new session wins.
 */
function sessionFor(requested: Session | undefined, recorded: Session | undefined) {
  if (requested === undefined) return recorded;
  return requested.reuse !== undefined && recorded?.id === requested.id ? recorded : requested;
}
