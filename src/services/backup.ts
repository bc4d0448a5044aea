import { stat } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import type {
  DynamoDbItem,
  DynamoDbTableData,
  DynamoDbTarget,
} from "../adapters/dynamodb/dynamodb-table.js";
import { writeFileAtomic } from "../adapters/fs/atomic-write.js";
import type { KeyStore, StoredKeys } from "../adapters/fs/key-store.js";
import {
  type BackupFile,
  buildBackupFile,
  isLockItem,
  itemFromJson,
  keysFingerprint,
  serializeBackupFile,
} from "../core/backup-file.js";
import type { NodeStatus } from "../core/cluster-status.js";
import {
  ClusterNotHealthyError,
  ConflictError,
  ProjectBusyError,
  UsageError,
} from "../core/errors.js";
import type { Progress } from "../core/progress.js";
import { usesAutoUnseal } from "../core/topology.js";
import type { ClusterService, UpResult } from "./cluster.js";
import { waitFor } from "./wait.js";

// `vault-ha backup` and `vault-ha restore`. Vault's storage is only
// consistent while no node writes to it, so a backup stops every node,
// scans the table with consistent reads, and brings the nodes back through
// `up`; a restore writes only under nodes that are not running. Neither
// ever writes Vault's lock item.

/** What backup and restore use of the cluster. */
export type BackupCluster = Pick<
  ClusterService,
  | "config"
  | "target"
  | "checkDocker"
  | "checkCompose"
  | "snapshot"
  | "nodeContainer"
  | "up"
  | "dynamodbTarget"
>;

export interface BackupDeps {
  readonly cluster: BackupCluster;
  readonly keyStore: Pick<KeyStore, "dir" | "keysFile" | "load" | "save" | "setAside">;
  /** The whole-table client (scan, count, batch writes). */
  readonly tableData: (target: DynamoDbTarget) => DynamoDbTableData;
  /** Creates Vault's table (hash key Path, range key Key) as `up` does. */
  readonly createTable: (target: DynamoDbTarget) => Promise<void>;
  /** Renders the Compose file as `up` would and starts the DynamoDB service alone. */
  readonly startDynamoDb: () => Promise<void>;
  /** The project's lock, the one `up`, `down` and `reset` take. */
  readonly lock: () => Promise<{ release(): Promise<void> }>;
  readonly progress: Progress;
  readonly now: () => Date;
  /** Milliseconds, for durations. */
  readonly clock: () => number;
  /** Writes the backup file (owner-only). */
  readonly writeFile: (file: string, text: string) => Promise<void>;
  readonly fileExists: (file: string) => Promise<boolean>;
}

/** Vault's table layout (physical/dynamodb): hash key Path, range key Key. */
const VAULT_KEY_SCHEMA = [
  { attributeName: "Path", keyType: "HASH" },
  { attributeName: "Key", keyType: "RANGE" },
] as const;

const sameKeySchema = (schema: readonly { attributeName: string; keyType: string }[]) =>
  schema.length === VAULT_KEY_SCHEMA.length &&
  VAULT_KEY_SCHEMA.every((element) =>
    schema.some(
      (other) => other.attributeName === element.attributeName && other.keyType === element.keyType,
    ),
  );

const names = (nodes: readonly { name: string }[]) => nodes.map((node) => node.name).join(", ");

export interface BackupRequest {
  /** Where to write; an existing file is never replaced. */
  readonly file: string;
  readonly include: "keys" | "no-keys";
  readonly passphrase?: string;
}

export interface BackupResult {
  readonly file: string;
  readonly project: string;
  readonly table: string;
  readonly items: number;
  readonly skippedLockItems: number;
  /** The nodes stopped for the scan (every running one) and brought back after it. */
  readonly stoppedNodes: readonly string[];
  /** From the first stop to every node back, unsealed, with one active (0 when none ran). */
  readonly nodesDownMs: number;
  readonly scanMs: number;
  /** What the file holds of the keys. */
  readonly keys: "included" | "encrypted" | "left-out";
  /** `up`'s result after the nodes came back; absent when none had to. */
  readonly up: UpResult | undefined;
}

/**
 * Stops every running Vault node (standbys, then the active one, so no
 * standby takes over on the way), scans the table with consistent reads
 * and writes the file, then brings the nodes back through `up`, which
 * starts and unseals them exactly as `vault-ha up` does. The nodes come
 * back even when the scan or the write fails.
 */
export async function backupCluster(
  deps: BackupDeps,
  request: BackupRequest,
): Promise<BackupResult> {
  const { cluster, progress } = deps;
  const { config } = cluster;
  await cluster.checkDocker();
  if (await deps.fileExists(request.file)) {
    throw new ConflictError(
      `${request.file} exists; name another file with -o, or move that one away`,
    );
  }
  const keys = await deps.keyStore.load();
  if (request.include === "keys" && !keys) {
    throw new ConflictError(
      `no keys stored for project ${config.project} (${deps.keyStore.keysFile}), so the backup could not be unsealed; add --without-keys if you keep them elsewhere`,
    );
  }
  const status = await cluster.snapshot({ storage: false });
  const endpoint = status.dynamodb.container === "running" ? status.dynamodb.endpoint : undefined;
  if (!endpoint) {
    throw new ClusterNotHealthyError(
      `DynamoDB Local of project ${config.project} is not running (${status.dynamodb.container}); there is nothing to back up without it`,
      [],
      { next: { kind: "up" } },
    );
  }
  const running = status.nodes.filter((node) => node.container === "running");
  if (running.length > 0 && !keys && !usesAutoUnseal(config)) {
    throw new ConflictError(
      `no keys stored for project ${config.project} (${deps.keyStore.keysFile}): the nodes would stay sealed after the scan; restore that file first`,
    );
  }
  const data = deps.tableData(cluster.dynamodbTarget(endpoint));
  try {
    const keySchema = await data.keySchema();
    if (!keySchema) {
      throw new ConflictError(
        `table ${config.storage.table} does not exist in the DynamoDB Local of project ${config.project}; there is nothing to back up`,
        [],
        { next: { kind: "up" } },
      );
    }
    const lock = await deps.lock();
    const started = deps.clock();
    let failure: unknown;
    let scanMs = 0;
    let written: BackupFile | undefined;
    try {
      if (running.length > 0) await stopNodes(deps, running);
      const scanStarted = deps.clock();
      const items = await progress.run(
        `reading table ${config.storage.table} (consistent scan, nodes stopped)`,
        (step) => data.scanAll((count) => step.detail(`${count} items`)),
      );
      scanMs = deps.clock() - scanStarted;
      written = buildBackupFile({
        createdAt: deps.now(),
        cluster: {
          project: config.project,
          table: config.storage.table,
          vaultVersion: status.nodes.find((node) => node.version)?.version ?? null,
          nodes: config.nodes,
          sealType: config.seal.type,
        },
        keySchema,
        stoppedNodes: running.map((node) => node.name),
        items,
        keys,
        include: request.include,
        ...(request.passphrase !== undefined ? { passphrase: request.passphrase } : {}),
      });
      const file = written;
      await progress.run(`writing ${path.basename(request.file)}`, () =>
        deps.writeFile(request.file, serializeBackupFile(file)),
      );
    } catch (error) {
      failure = error;
    } finally {
      // Released before `up`, which takes the same lock.
      await lock.release();
    }
    let up: UpResult | undefined;
    if (running.length > 0) {
      try {
        up = await cluster.up();
      } catch (upError) {
        if (failure === undefined) throw upError;
        throw new ClusterNotHealthyError(
          `the backup failed (${(failure as Error).message}) and the nodes did not come back (${(upError as Error).message})`,
          [],
          { next: { kind: "up" }, cause: failure },
        );
      }
    }
    if (failure !== undefined) throw failure;
    const file = written as BackupFile;
    return {
      file: request.file,
      project: config.project,
      table: config.storage.table,
      items: file.itemCount,
      skippedLockItems: file.skippedLockItems,
      stoppedNodes: running.map((node) => node.name),
      nodesDownMs: running.length > 0 ? Math.round(deps.clock() - started) : 0,
      scanMs: Math.round(scanMs),
      keys: !file.keys ? "left-out" : file.keys.encryption === "none" ? "included" : "encrypted",
      up,
    };
  } finally {
    data.close();
  }
}

/** Standbys first, then the active node: a standby stopped last could take the lock meanwhile. */
async function stopNodes(deps: BackupDeps, running: readonly NodeStatus[]): Promise<void> {
  const active = running.filter((node) => node.mode === "active");
  const others = running.filter((node) => node.mode !== "active");
  await deps.progress.run(`stopping ${names(running)} for a consistent scan`, async () => {
    await Promise.all(others.map((node) => deps.cluster.nodeContainer(node.name, "stop")));
    await Promise.all(active.map((node) => deps.cluster.nodeContainer(node.name, "stop")));
  });
}

export interface RestoreRequest {
  readonly backup: BackupFile;
  /** The file's name, for messages. */
  readonly source: string;
  /** The keys the file carries, already opened (decrypted); undefined when it has none. */
  readonly keys: StoredKeys | undefined;
  /** Delete the table's items first instead of refusing a table that has some. */
  readonly force: boolean;
}

export interface RestoreResult {
  readonly project: string;
  readonly table: string;
  /** The table the backup was taken from, when it is another one. */
  readonly fromTable: string | undefined;
  readonly items: number;
  /** Items deleted first (--force). */
  readonly deleted: number;
  /** Lock records in the file, never written (a file from vault-ha never has any). */
  readonly skippedLockItems: number;
  /** DynamoDB was not running and was started alone for the restore. */
  readonly startedDynamoDb: boolean;
  readonly keys:
    | "written"
    | "already-stored"
    /** The file has no keys and none are stored: `up` needs them at keysFile. */
    | "missing"
    /** The file has no keys and no fingerprint: the stored ones could not be checked. */
    | "unchecked";
  /** Earlier keys moved aside (they opened the data the restore replaced). */
  readonly keysSetAside: string | undefined;
  readonly keysFile: string;
}

/** Container states of a node that is not running. */
const STOPPED = new Set(["missing", "exited", "dead", "created"]);

/**
 * Writes a backup's items into the configured table of a cluster whose
 * Vault nodes are not running, starting DynamoDB alone when it is not
 * running either. Refuses (exit 5, nothing written) a table with items
 * unless `force`, and stored keys that do not open the backup's data.
 */
export async function restoreBackup(
  deps: BackupDeps,
  request: RestoreRequest,
): Promise<RestoreResult> {
  const { cluster, progress } = deps;
  const { config } = cluster;
  const { backup, source } = request;
  const table = config.storage.table;
  if (!sameKeySchema(backup.table.keySchema)) {
    throw new UsageError(
      `${source} is not of a Vault table (its key schema is not hash key Path, range key Key)`,
    );
  }
  if (backup.cluster.sealType !== config.seal.type) {
    throw new UsageError(
      `${source} holds data sealed with seal type ${backup.cluster.sealType}, and project ${config.project} is configured with ${config.seal.type}; restore with --set seal.type=${backup.cluster.sealType}`,
    );
  }
  await cluster.checkDocker();
  const status = await cluster.snapshot({ storage: false });
  const running = status.nodes.filter((node) => !STOPPED.has(node.container));
  if (running.length > 0) {
    throw new ConflictError(
      `${names(running)} of project ${config.project} ${running.length === 1 ? "is" : "are"} running, and a restore under a running Vault would corrupt it; run vault-ha down first (it keeps DynamoDB's data volume), then restore again`,
    );
  }
  const stored = await deps.keyStore.load();
  // Before anything is written: stored keys that cannot open the data refuse the restore.
  const keysPlan = planKeys(request, stored, deps.keyStore.keysFile);

  const lock = await deps.lock();
  let data: DynamoDbTableData | undefined;
  try {
    let startedDynamoDb = false;
    if (status.dynamodb.container !== "running") {
      await cluster.checkCompose();
      await progress.run("starting DynamoDB Local (only DynamoDB: the nodes stay down)", () =>
        deps.startDynamoDb(),
      );
      startedDynamoDb = true;
    }
    const answering = await progress.run("waiting for DynamoDB Local to answer", () =>
      waitForDynamoDb(deps),
    );
    data = answering.data;
    const client = data;
    if (answering.keySchema === undefined) {
      await progress.run(`creating table ${table}`, () => deps.createTable(answering.target));
    } else if (!sameKeySchema(answering.keySchema)) {
      throw new ConflictError(
        `table ${table} of project ${config.project} is not Vault's (its key schema is not hash key Path, range key Key); name another table with --table`,
      );
    }
    const count = await data.itemCount();
    if (count > 0 && !request.force) {
      throw new ConflictError(
        `table ${table} of project ${config.project} has ${count} item${count === 1 ? "" : "s"}; restore writes only into an empty table: add --force to delete them first, or use vault-ha reset`,
      );
    }
    const deleted =
      count > 0
        ? await progress.run(`deleting the ${count} items in table ${table} (--force)`, () =>
            client.deleteAll(),
          )
        : 0;
    const items = backup.items
      .filter((item) => !isLockItem(item as { Key?: { S?: string } }))
      .map((item) => itemFromJson(item) as DynamoDbItem);
    await progress.run(`writing ${items.length} items into table ${table}`, (step) =>
      client.batchWriteAll(items, (written) => step.detail(`${written} written`)),
    );
    const after = await data.itemCount();
    if (after !== items.length) {
      throw new ClusterNotHealthyError(
        `table ${table} has ${after} items after the restore instead of ${items.length}; run vault-ha restore --force again`,
      );
    }
    let keysSetAside: string | undefined;
    if (keysPlan === "write" && request.keys) {
      // A restore replaces the data the earlier keys opened: they are kept, beside.
      if (stored) keysSetAside = await deps.keyStore.setAside();
      await deps.keyStore.save({ ...request.keys, storage: storageOf(config) });
    }
    return {
      project: config.project,
      table,
      fromTable: backup.cluster.table !== table ? backup.cluster.table : undefined,
      items: items.length,
      deleted,
      skippedLockItems: backup.items.length - items.length,
      startedDynamoDb,
      keys: keysPlan === "write" ? "written" : keysPlan,
      keysSetAside,
      keysFile: deps.keyStore.keysFile,
    };
  } finally {
    data?.close();
    await lock.release();
  }
}

/** What happens to the keys; refuses stored keys that cannot open the backup's data. */
function planKeys(
  request: RestoreRequest,
  stored: StoredKeys | undefined,
  keysFile: string,
): "write" | Exclude<RestoreResult["keys"], "written"> {
  const fingerprint = request.backup.keysFingerprint;
  if (request.keys) {
    return stored && keysFingerprint(stored) === keysFingerprint(request.keys)
      ? "already-stored"
      : "write";
  }
  if (!stored) return "missing";
  if (fingerprint === null) return "unchecked";
  if (keysFingerprint(stored) === fingerprint) return "already-stored";
  throw new ConflictError(
    `${request.source} has no keys, and the keys in ${keysFile} do not open its data (another initialisation); move that file away and put the backup's keys there, or restore a backup made with its keys`,
  );
}

/** Which data keys open, as `up` records it when it initialises (StoredKeys.storage). */
function storageOf(config: BackupCluster["config"]): string {
  return config.dynamodb.inMemory
    ? `in-memory:${config.project}`
    : `dynamodb-volume:${config.project}_dynamodb-data`;
}

/** Polls until DynamoDB Local answers on the host; its table's key schema (undefined: no table). */
async function waitForDynamoDb(deps: BackupDeps) {
  let current: { endpoint: string; data: DynamoDbTableData } | undefined;
  try {
    return await waitFor(
      "DynamoDB Local to answer",
      120_000,
      async () => {
        const { dynamodb } = await deps.cluster.snapshot({ storage: false });
        if (dynamodb.container !== "running" || !dynamodb.endpoint) {
          return { done: false, last: `container ${dynamodb.container}` };
        }
        if (current?.endpoint !== dynamodb.endpoint) {
          current?.data.close();
          current = {
            endpoint: dynamodb.endpoint,
            data: deps.tableData(deps.cluster.dynamodbTarget(dynamodb.endpoint)),
          };
        }
        try {
          const keySchema = await current.data.keySchema();
          return {
            done: true,
            value: {
              data: current.data,
              keySchema,
              target: deps.cluster.dynamodbTarget(dynamodb.endpoint),
            },
          };
        } catch (error) {
          return { done: false, last: (error as Error).message };
        }
      },
      100,
    );
  } catch (error) {
    current?.data.close();
    throw error;
  }
}

/** The real adapters behind backup and restore. */
export async function createBackupDeps(
  cluster: ClusterService,
  options: {
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly certsDir?: string | undefined;
    readonly progress: Progress;
  },
): Promise<BackupDeps> {
  const [{ createDynamoDbTable, createDynamoDbTableData }, { acquireLock, createKeyStore }] =
    await Promise.all([
      import("../adapters/dynamodb/dynamodb-table.js"),
      import("../adapters/fs/key-store.js"),
    ]);
  const { config } = cluster;
  // The same store `up` uses: keysFile is <state root>/<project>/init.json.
  const keyStore = createKeyStore(path.dirname(path.dirname(cluster.keysFile)), config.project);
  return {
    cluster,
    keyStore,
    tableData: (target) => createDynamoDbTableData(target),
    async createTable(target) {
      const table = createDynamoDbTable(target, 30_000);
      try {
        await table.ensureTable({
          billingMode: config.storage.billing_mode,
          readCapacity: config.storage.read_capacity,
          writeCapacity: config.storage.write_capacity,
        });
      } finally {
        table.close();
      }
    },
    startDynamoDb: () => startDynamoDbAlone(cluster, keyStore.dir, options),
    async lock() {
      const file = path.join(keyStore.dir, "up.lock");
      const lock = await acquireLock(file);
      if ("heldBy" in lock) {
        const where =
          lock.holder?.host && lock.holder.host !== hostname() ? ` on ${lock.holder.host}` : "";
        throw new ProjectBusyError(
          `another vault-ha up, down or reset for project ${config.project} is running (process ${lock.heldBy}${where}); wait for it to finish, then run this again (lock file ${file})`,
        );
      }
      return lock;
    },
    progress: options.progress,
    now: () => new Date(),
    clock: () => performance.now(),
    writeFile: (file, text) => writeFileAtomic(file, text, { mode: 0o600 }),
    fileExists: (file) =>
      stat(file).then(
        () => true,
        () => false,
      ),
  };
}

/**
 * What `up` does before the table, and nothing after: record the topology,
 * write the same Compose file (so the next `up` finds it unchanged and
 * leaves DynamoDB running: in memory, its data would not survive a
 * recreate), build DynamoDB's image if it is missing, start that service.
 */
async function startDynamoDbAlone(
  cluster: ClusterService,
  stateDir: string,
  options: {
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly certsDir?: string | undefined;
  },
): Promise<void> {
  const [
    { locateEngine },
    { connectEngine },
    { composeEnvironment },
    { createComposeCli },
    { writeComposeFile },
    { readSession },
    { recordTopology },
    { builtImageTag, DYNAMODB_SERVICE },
  ] = await Promise.all([
    import("../adapters/docker/engine-location.js"),
    import("../adapters/docker/connect-engine.js"),
    import("../core/engine-endpoint.js"),
    import("../adapters/compose/compose-cli.js"),
    import("./compose-file.js"),
    import("./session-file.js"),
    import("./topology-file.js"),
    import("../core/render-compose.js"),
  ]);
  const { config, target } = cluster;
  const { endpoint, placement } = locateEngine(options.env, config.bindAddress);
  await recordTopology(stateDir, config);
  await writeComposeFile(
    config,
    target.file,
    options.certsDir,
    readSession(stateDir),
    placement.bindAddress,
  );
  const compose = createComposeCli(composeEnvironment(endpoint, options.env));
  const docker = connectEngine(options.env, endpoint);
  if ((await docker.imageId(builtImageTag("dynamodb", config.dynamodb.image))) === undefined) {
    const { podman } = await docker.engineInfo();
    await compose.build(target, { services: [DYNAMODB_SERVICE], classicBuilder: podman });
  }
  await compose.start(target, { services: [DYNAMODB_SERVICE], removeOrphans: false });
}
