import { describe, expect, it } from "vitest";
import { fakeStatus } from "../../test/support/status-fixture.js";
import { storedKeys } from "../../test/support/stored-keys.js";
import type { DynamoDbItem, DynamoDbTableData } from "../adapters/dynamodb/dynamodb-table.js";
import type { StoredKeys } from "../adapters/fs/key-store.js";
import {
  type BackupFile,
  buildBackupFile,
  keysFingerprint,
  openBackupKeys,
  parseBackupFile,
} from "../core/backup-file.js";
import type { NodeMode } from "../core/cluster-status.js";
import { configSchema } from "../core/config-schema.js";
import { ExitCode, type VaultHaError } from "../core/errors.js";
import { SILENT } from "../core/progress.js";
import {
  type BackupCluster,
  type BackupDeps,
  backupCluster,
  type RestoreRequest,
  restoreBackup,
} from "./backup.js";

// Backup and restore flows against a pretend cluster and table: the order
// of stops, scan and `up`, what is refused before anything changes, and
// that no lock item is ever written.

const KEYS = storedKeys({
  keys: ["k1", "k2", "k3"],
  keysBase64: ["a1", "a2", "a3"],
  rootToken: "hvs.ROOT",
  sealType: "shamir",
});
const OTHER_KEYS: StoredKeys = { ...KEYS, keys: ["x1", "x2", "x3"], rootToken: "hvs.OTHER" };

const item = (path: string, key: string, value = [1, 2, 3]): DynamoDbItem => ({
  Path: { S: path },
  Key: { S: key },
  Value: { B: new Uint8Array(value) },
});
const LOCK: DynamoDbItem = {
  Path: { S: "core" },
  Key: { S: "_lock" },
  Identity: { B: new Uint8Array([9]) },
  Expires: { N: "1" },
};
const DATA = [item("core", "seal-config"), item("logical/x", "data", [0, 255])];

class World {
  readonly calls: string[] = [];
  readonly config = configSchema.parse({ project: "unit", nodes: 3 });
  modes: NodeMode[] = ["standby", "active", "standby"];
  dynamodb: "running" | "missing" = "running";
  tableExists = true;
  items: DynamoDbItem[] = [...DATA, LOCK];
  stored: StoredKeys | undefined = KEYS;
  saved: StoredKeys | undefined;
  written = new Map<string, string>();
  failScan = false;
  stopped = () => this.modes.every((mode) => mode === "down");

  readonly cluster = {
    config: this.config,
    target: { file: "/work/compose.generated.yml", project: "unit" },
    checkDocker: async () => {},
    checkCompose: async () => {},
    snapshot: async () =>
      fakeStatus(this.modes, {
        project: "unit",
        dynamodb: {
          container: this.dynamodb,
          endpoint: this.dynamodb === "running" ? "http://127.0.0.1:8000" : undefined,
        },
      }),
    nodeContainer: async (name: string, action: "stop" | "start" | "kill") => {
      this.calls.push(`${action} ${name}`);
      const index = Number(name.replace("vault-", "")) - 1;
      this.modes[index] = action === "start" ? "sealed" : "down";
    },
    up: async () => {
      this.calls.push("up");
      this.modes = this.modes.map((_, index) => (index === 0 ? "active" : "standby"));
      return {
        changed: true,
        initialized: false,
        unsealed: ["vault-1", "vault-2", "vault-3"],
        status: fakeStatus(this.modes),
        composeFile: "/work/compose.generated.yml",
        keysFile: "/state/unit/init.json",
      };
    },
    dynamodbTarget: (endpoint: string) => ({
      endpoint,
      table: this.config.storage.table,
      region: "us-east-1",
      accessKeyId: "a",
      secretAccessKey: "b",
    }),
  } as unknown as BackupCluster;

  readonly table: DynamoDbTableData = {
    keySchema: async () =>
      this.tableExists
        ? [
            { attributeName: "Path", keyType: "HASH" },
            { attributeName: "Key", keyType: "RANGE" },
          ]
        : undefined,
    scanAll: async () => {
      this.calls.push(`scan (nodes ${this.stopped() ? "stopped" : "running"})`);
      if (this.failScan) throw new Error("scan timed out");
      return [...this.items];
    },
    itemCount: async () => this.items.length,
    batchWriteAll: async (items) => {
      this.calls.push(`write ${items.length}`);
      this.items.push(...items);
    },
    deleteAll: async () => {
      this.calls.push(`delete ${this.items.length}`);
      const count = this.items.length;
      this.items = [];
      return count;
    },
    close: () => {},
  };

  readonly deps: BackupDeps = {
    cluster: this.cluster,
    keyStore: {
      dir: "/state/unit",
      keysFile: "/state/unit/init.json",
      load: async () => this.stored,
      save: async (keys) => {
        this.calls.push("save keys");
        this.saved = keys;
        this.stored = keys;
      },
      setAside: async () => {
        this.calls.push("set keys aside");
        return "/state/unit/init.json.old";
      },
    },
    tableData: () => this.table,
    createTable: async () => {
      this.calls.push("create table");
      this.tableExists = true;
    },
    startDynamoDb: async () => {
      this.calls.push("start dynamodb");
      this.dynamodb = "running";
    },
    lock: async () => {
      this.calls.push("lock");
      return {
        release: async () => {
          this.calls.push("release");
        },
      };
    },
    progress: SILENT,
    now: () => new Date("2026-11-22T12:00:00.000Z"),
    clock: (() => {
      let time = 0;
      return () => (time += 1000);
    })(),
    writeFile: async (file, text) => {
      this.calls.push(`write file ${file}`);
      this.written.set(file, text);
    },
    fileExists: async (file) => this.written.has(file),
  };
}

async function failure(run: Promise<unknown>): Promise<VaultHaError> {
  try {
    await run;
  } catch (error) {
    return error as VaultHaError;
  }
  throw new Error("expected a failure");
}

const backupOf = (items: readonly DynamoDbItem[], options: Partial<BackupFile["cluster"]> = {}) =>
  parseBackupFile(
    JSON.stringify(
      buildBackupFile({
        createdAt: new Date(),
        cluster: {
          project: "old",
          table: "vault-data",
          vaultVersion: "1.21.1",
          nodes: 3,
          sealType: "shamir",
          ...options,
        },
        keySchema: [
          { attributeName: "Path", keyType: "HASH" },
          { attributeName: "Key", keyType: "RANGE" },
        ],
        stoppedNodes: [],
        items,
        keys: KEYS,
        include: "keys",
      }),
    ),
    "b.json",
  );

describe("backup", () => {
  it("stops the standbys, then the active node, scans with every node stopped, writes, then brings them back through up", async () => {
    const world = new World();
    const result = await backupCluster(world.deps, { file: "/out/b.json", include: "keys" });
    expect(world.calls).toEqual([
      "lock",
      "stop vault-1",
      "stop vault-3",
      "stop vault-2",
      "scan (nodes stopped)",
      "write file /out/b.json",
      "release",
      "up",
    ]);
    expect(result).toMatchObject({
      items: 2,
      skippedLockItems: 1,
      stoppedNodes: ["vault-1", "vault-2", "vault-3"],
      keys: "included",
    });
    expect(result.nodesDownMs).toBeGreaterThan(0);
    const file = parseBackupFile(world.written.get("/out/b.json") as string, "b.json");
    expect(file.items.map((entry) => entry.Key)).toEqual([{ S: "seal-config" }, { S: "data" }]);
    expect(file.cluster).toEqual({
      project: "unit",
      table: "vault-data",
      vaultVersion: "1.21.1",
      nodes: 3,
      sealType: "shamir",
    });
    expect(openBackupKeys(file, undefined, "b.json")).toEqual(KEYS);
  });

  it("brings the nodes back when the scan fails, then reports the scan's failure", async () => {
    const world = new World();
    world.failScan = true;
    const error = await failure(
      backupCluster(world.deps, { file: "/out/b.json", include: "keys" }),
    );
    expect(error.message).toBe("scan timed out");
    expect(world.calls.slice(-2)).toEqual(["release", "up"]);
    expect(world.written.size).toBe(0);
  });

  it("refuses an existing file and missing keys before stopping anything (exit 5)", async () => {
    const world = new World();
    world.written.set("/out/b.json", "old");
    const exists = await failure(
      backupCluster(world.deps, { file: "/out/b.json", include: "keys" }),
    );
    expect(exists.exitCode).toBe(ExitCode.conflict);
    expect(exists.message).toMatch(/^\/out\/b\.json exists; name another file with -o/);
    expect(world.written.get("/out/b.json")).toBe("old");

    world.stored = undefined;
    const noKeys = await failure(
      backupCluster(world.deps, { file: "/out/c.json", include: "keys" }),
    );
    expect(noKeys.exitCode).toBe(ExitCode.conflict);
    expect(noKeys.message).toMatch(/no keys stored for project unit .*--without-keys/);
    const sealedAfter = await failure(
      backupCluster(world.deps, { file: "/out/c.json", include: "no-keys" }),
    );
    expect(sealedAfter.message).toMatch(/the nodes would stay sealed after the scan/);
    expect(world.calls).toEqual([]);
  });

  it("encrypts the keys with a passphrase, or leaves them out", async () => {
    const world = new World();
    const sealed = await backupCluster(world.deps, {
      file: "/out/a.json",
      include: "keys",
      passphrase: "pw",
    });
    expect(sealed.keys).toBe("encrypted");
    expect(world.written.get("/out/a.json")).not.toContain(KEYS.rootToken);
    const left = await backupCluster(world.deps, { file: "/out/b.json", include: "no-keys" });
    expect(left.keys).toBe("left-out");
    const file = parseBackupFile(world.written.get("/out/b.json") as string, "b.json");
    expect(file.keys).toBeUndefined();
    expect(file.keysFingerprint).toBe(keysFingerprint(KEYS));
  });

  it("with no node running, scans the table as it is and starts nothing", async () => {
    const world = new World();
    world.modes = ["down", "down", "down"];
    const result = await backupCluster(world.deps, { file: "/out/b.json", include: "keys" });
    expect(world.calls).toEqual([
      "lock",
      "scan (nodes stopped)",
      "write file /out/b.json",
      "release",
    ]);
    expect(result).toMatchObject({ stoppedNodes: [], nodesDownMs: 0, up: undefined });
  });

  it("without DynamoDB running there is nothing to back up (exit 4)", async () => {
    const world = new World();
    world.dynamodb = "missing";
    const error = await failure(
      backupCluster(world.deps, { file: "/out/b.json", include: "keys" }),
    );
    expect(error.exitCode).toBe(ExitCode.clusterNotHealthy);
    expect(world.calls).toEqual([]);
  });
});

describe("restore", () => {
  const request = (
    backup: BackupFile,
    overrides: Partial<RestoreRequest> = {},
  ): RestoreRequest => ({
    backup,
    source: "b.json",
    keys: openBackupKeys(backup, undefined, "b.json"),
    force: false,
    ...overrides,
  });

  function emptyWorld() {
    const world = new World();
    world.modes = ["down", "down", "down"];
    world.items = [];
    world.stored = undefined;
    return world;
  }

  it("writes every item into an empty table, never a lock item, and stores the keys for this project", async () => {
    const world = emptyWorld();
    const backup = backupOf([...DATA, LOCK]);
    const result = await restoreBackup(world.deps, request(backup));
    expect(world.calls).toEqual(["lock", "write 2", "save keys", "release"]);
    expect(world.items).toEqual(DATA);
    expect(world.items.some((entry) => entry.Key?.S === "_lock")).toBe(false);
    expect(world.saved).toEqual({ ...KEYS, storage: "dynamodb-volume:unit_dynamodb-data" });
    expect(result).toMatchObject({
      project: "unit",
      items: 2,
      deleted: 0,
      keys: "written",
      fromTable: undefined,
      startedDynamoDb: false,
    });
  });

  it("a backup of another table goes into the configured one, and says so", async () => {
    const world = emptyWorld();
    const result = await restoreBackup(world.deps, request(backupOf(DATA, { table: "old-table" })));
    expect(result.fromTable).toBe("old-table");
    expect(result.table).toBe("vault-data");
  });

  it("refuses while a node runs (exit 5), before touching the table or the keys", async () => {
    const world = emptyWorld();
    world.modes = ["down", "sealed", "down"];
    const error = await failure(restoreBackup(world.deps, request(backupOf(DATA))));
    expect(error.exitCode).toBe(ExitCode.conflict);
    expect(error.message).toMatch(/^vault-2 of project unit is running/);
    expect(world.calls).toEqual([]);
    expect(world.items).toEqual([]);
  });

  it("refuses a table with items unless --force (exit 5, nothing written); --force deletes them first", async () => {
    const world = emptyWorld();
    world.items = [item("old", "one"), item("old", "two"), LOCK];
    const error = await failure(restoreBackup(world.deps, request(backupOf(DATA))));
    expect(error.exitCode).toBe(ExitCode.conflict);
    expect(error.message).toBe(
      "table vault-data of project unit has 3 items; restore writes only into an empty table: add --force to delete them first, or use vault-ha reset",
    );
    expect(world.items).toHaveLength(3);
    expect(world.saved).toBeUndefined();
    expect(world.calls).toEqual(["lock", "release"]);

    const forced = await restoreBackup(world.deps, request(backupOf(DATA), { force: true }));
    expect(forced.deleted).toBe(3);
    expect(world.items).toEqual(DATA);
  });

  it("starts DynamoDB alone when it is not running, and creates the table", async () => {
    const world = emptyWorld();
    world.dynamodb = "missing";
    world.tableExists = false;
    const result = await restoreBackup(world.deps, request(backupOf(DATA)));
    expect(world.calls.slice(0, 3)).toEqual(["lock", "start dynamodb", "create table"]);
    expect(result.startedDynamoDb).toBe(true);
    expect(world.modes).toEqual(["down", "down", "down"]);
  });

  it("without keys in the file: refuses stored keys of other data, accepts matching ones", async () => {
    const backup = backupOf(DATA);
    const mismatch = emptyWorld();
    mismatch.stored = OTHER_KEYS;
    const error = await failure(restoreBackup(mismatch.deps, request(backup, { keys: undefined })));
    expect(error.exitCode).toBe(ExitCode.conflict);
    expect(error.message).toMatch(
      /^b\.json has no keys, and the keys in \/state\/unit\/init\.json do not open its data/,
    );
    expect(mismatch.items).toEqual([]);

    const matching = emptyWorld();
    matching.stored = KEYS;
    const kept = await restoreBackup(matching.deps, request(backup, { keys: undefined }));
    expect(kept.keys).toBe("already-stored");
    expect(matching.saved).toBeUndefined();

    const none = emptyWorld();
    expect((await restoreBackup(none.deps, request(backup, { keys: undefined }))).keys).toBe(
      "missing",
    );
  });

  it("keys in the file replace other stored keys, which are set aside first", async () => {
    const world = emptyWorld();
    world.stored = OTHER_KEYS;
    const result = await restoreBackup(world.deps, request(backupOf(DATA)));
    expect(world.calls).toContain("set keys aside");
    expect(result.keysSetAside).toBe("/state/unit/init.json.old");
    expect(world.saved?.rootToken).toBe(KEYS.rootToken);
  });

  it("refuses data sealed another way than configured (exit 2)", async () => {
    const world = emptyWorld();
    const error = await failure(
      restoreBackup(world.deps, request(backupOf(DATA, { sealType: "transit" }))),
    );
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toMatch(/restore with --set seal\.type=transit$/);
  });
});
