import type { ComposeCli } from "../../adapters/compose/compose-cli.js";
import type { DockerEngine } from "../../adapters/docker/docker-engine.js";
import type { DynamoDbTable, DynamoDbTarget } from "../../adapters/dynamodb/dynamodb-table.js";
import type { KeyStore } from "../../adapters/fs/key-store.js";
import type { KmsKeys, KmsTarget } from "../../adapters/kms/kms-keys.js";
import type { VaultNodeClient } from "../../adapters/vault/vault-node-client.js";
import type { ClusterStatus } from "../../core/cluster-status.js";
import type { PortsPlacement } from "../../core/ports-host.js";
import type { Progress } from "../../core/progress.js";
import type { Session } from "../../core/session.js";
import type { BuildCache } from "../build-cache.js";

/** Everything the cluster service touches, passed in so tests can swap parts. */
export interface ClusterDeps {
  readonly docker: DockerEngine;
  readonly compose: ComposeCli;
  readonly vault: (url: string) => VaultNodeClient;
  readonly dynamodb: (target: DynamoDbTarget) => DynamoDbTable;
  /** AWS KMS (the emulator behind seal.type awskms). */
  readonly kms: (target: KmsTarget) => KmsKeys;
  readonly keys: KeyStore;
  readonly progress: Progress;
  /** Where the Compose file is written (compose.generated.yml by default). */
  readonly composeFile: string;
  readonly certsDir?: string | undefined;
  /** Skips `--build` when the built images are current; absent: always build. */
  readonly buildCache?: BuildCache;
  /** An ephemeral cluster's owner, put on every resource as labels. */
  readonly session?: Session | undefined;
  /** Where published ports are bound and reached; absent: 127.0.0.1 for both. */
  readonly placement?: PortsPlacement;
  /** The environment the watchdog process gets (the engine's settings). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** A project's resources by id (containers, networks) and name (volumes). */
export interface ProjectInventory {
  readonly containers: readonly string[];
  readonly networks: readonly string[];
  readonly volumes: readonly string[];
}

export interface UpResult {
  /** False when the cluster was already running, unsealed and healthy. */
  readonly changed: boolean;
  readonly initialized: boolean;
  readonly unsealed: readonly string[];
  readonly status: ClusterStatus;
  readonly composeFile: string;
  readonly keysFile: string;
}

export interface StepDownResult {
  readonly from: string;
  readonly to: string;
  readonly elapsedMs: number;
}

export interface SnapshotOptions {
  /**
   * Ask DynamoDB for table status, item count and the HA lock (default true).
   * The waits inside `up` only need the nodes and the container's health.
   */
  readonly storage?: boolean;
}
