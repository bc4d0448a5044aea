import { readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { type AttributeValue, DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { type CliCluster, cliCluster } from "../support/cli-cluster.js";
import { docker, projectResources, serviceContainer } from "../support/docker.js";
import { haLockItem, waitOneActive } from "../support/oracle.js";
import { vaultRequest } from "../support/vault-http.js";

// Backup and restore (issue 14) on a real 2-node cluster with its DynamoDB
// data on a volume (an in-memory DynamoDB would not survive the steps
// between backup and restore), driven through the built CLI and checked
// against Vault (raw HTTP) and DynamoDB (the AWS SDK) directly.
let cluster: CliCluster;
const NODES = ["vault-1", "vault-2"];

interface Keys {
  rootToken: string;
  keys: string[];
}

const urls = () => cluster.urls(NODES.length);
const endpoint = () => `http://127.0.0.1:${cluster.dynamodbPort}`;
const keysFile = () => path.join(cluster.stateDir, cluster.project, "init.json");
const readKeys = async (): Promise<Keys> => JSON.parse(await readFile(keysFile(), "utf8"));
const inCwd = (name: string) => path.join(cluster.cwd, name);

/** Every item of the table, read with consistent reads straight from DynamoDB. */
async function scanTable(): Promise<Record<string, AttributeValue>[]> {
  const client = new DynamoDBClient({
    endpoint: endpoint(),
    region: "us-east-1",
    credentials: { accessKeyId: "vaultha", secretAccessKey: "vaultha" },
    maxAttempts: 2,
  });
  try {
    const items: Record<string, AttributeValue>[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await client.send(
        new ScanCommand({
          TableName: "vault-data",
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  } finally {
    client.destroy();
  }
}

/**
 * Items as comparable text, in DynamoDB JSON with binary values in base64
 * (what the backup file holds), attributes in name order, items sorted.
 */
const fingerprint = (items: readonly object[]) =>
  items
    .map((item) =>
      JSON.stringify(
        Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b))),
        (_key, value) =>
          value instanceof Uint8Array ? Buffer.from(value).toString("base64") : value,
      ),
    )
    .sort();

/** `up` (idempotent), then one active node and the other a standby, by raw sys/health. */
async function ensureUp(): Promise<{ keys: Keys; activeUrl: string }> {
  const up = await cluster.run(["up"]);
  expect(up.exitCode, up.stderr).toBe(0);
  const truth = await waitOneActive(urls(), 60_000);
  return { keys: await readKeys(), activeUrl: urls()[truth.activeIndex] as string };
}

/** When each Vault container last started, from Docker. */
const startedAt = async () =>
  Promise.all(
    NODES.map(
      async (name) =>
        (await (await serviceContainer(cluster.project, name)).inspect()).State.StartedAt,
    ),
  );

async function writeKv(url: string, token: string) {
  const mount = await vaultRequest(url, "POST", "sys/mounts/secret", {
    token,
    body: { type: "kv", options: { version: "2" } },
  });
  expect([204, 400]).toContain(mount.status); // 400: mounted by an earlier test
  for (const value of ["first", "second"]) {
    const write = await vaultRequest(url, "POST", "secret/data/app", {
      token,
      body: { data: { value } },
    });
    expect(write.status).toBe(200);
  }
  const meta = await vaultRequest(url, "GET", "secret/metadata/app", { token });
  return (meta.body.data as { current_version: number }).current_version;
}

async function readKv(url: string, token: string, version: number) {
  const read = await vaultRequest(url, "GET", `secret/data/app?version=${version}`, { token });
  expect(read.status, JSON.stringify(read.body)).toBe(200);
  return (read.body.data as { data: { value: string } }).data.value;
}

/** The error lines of a command's stderr (progress lines aside). */
const errorLines = (stderr: string) =>
  stderr.split("\n").filter((line) => line.startsWith("error"));

/** The Vault containers of the project that exist (running or not). */
const vaultContainers = async () =>
  (await projectResources(cluster.project)).containers.filter((name) => /vault-\d/.test(name));

describe("vault-ha backup and restore, on a real 2-node cluster", () => {
  beforeAll(async () => {
    cluster = await cliCluster("backup", ["--nodes", String(NODES.length)], {
      nodes: NODES.length,
    });
  });
  afterAll(async () => {
    await cluster.cleanup();
  });

  it("backup stops every node for a consistent scan and brings the cluster back; reset, restore and up bring the secrets and their versions back, and no lock item is written", async () => {
    const { keys, activeUrl } = await ensureUp();
    const version = await writeKv(activeUrl, keys.rootToken);
    // Vault's HA lock record, as the backend stores it: Path "core", Key "_lock".
    expect(await haLockItem(endpoint())).toBeDefined();
    const before = await startedAt();

    const file = inCwd("full.json");
    const backup = await cluster.run(["backup", "-o", "full.json"]);
    expect(backup.exitCode, backup.stderr).toBe(0);
    expect(backup.stdout).toMatch(
      /vault-1, vault-2 were stopped for a consistent scan \(\d+\.\d s\) and are back, unsealed, vault-\d active: \d+\.\d s without Vault/,
    );
    expect(backup.stdout).toContain("holds the unseal keys and root token in the clear");
    expect(backup.stdout + backup.stderr).not.toContain(keys.rootToken);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    // Docker saw every node stopped and started again.
    const after = await startedAt();
    for (const [index, time] of after.entries())
      expect(Date.parse(time)).toBeGreaterThan(Date.parse(before[index] as string));
    // Healthy again, by each node's raw sys/health.
    await waitOneActive(urls(), 5_000);

    const document = JSON.parse(await readFile(file, "utf8"));
    expect(document).toMatchObject({
      format: "vault-ha-backup",
      version: 1,
      cluster: { project: cluster.project, table: "vault-data", nodes: 2, sealType: "shamir" },
      consistency: { stoppedNodes: NODES, consistentRead: true },
      keys: { encryption: "none", stored: { rootToken: keys.rootToken } },
    });
    const items = document.items as { Path: { S: string }; Key: { S: string } }[];
    expect(items.length).toBeGreaterThan(10);
    expect(items.filter((item) => item.Key.S.startsWith("_"))).toEqual([]);
    expect(items.some((item) => item.Path.S === "core" && item.Key.S === "seal-config")).toBe(true);

    const reset = await cluster.run(["reset", "--yes"]);
    expect(reset.exitCode, reset.stderr).toBe(0);
    expect((await projectResources(cluster.project)).volumes).toEqual([]);

    const restore = await cluster.run(["restore", "full.json"]);
    expect(restore.exitCode, restore.stderr).toBe(0);
    expect(restore.stdout).toContain(
      `restored ${items.length} items from full.json into table vault-data of project ${cluster.project}`,
    );
    expect(restore.stderr).toContain("vault-ha up");
    // Before up: the table holds exactly the backup's items, no lock item, and no node runs.
    expect(await vaultContainers()).toEqual([]);
    const restored = await scanTable();
    expect(fingerprint(restored)).toEqual(fingerprint(items));
    expect(restored.filter((item) => item.Key?.S?.startsWith("_"))).toEqual([]);
    expect(await haLockItem(endpoint())).toBeUndefined();
    expect((await readKeys()).rootToken).toBe(keys.rootToken);
    expect((await stat(keysFile())).mode & 0o777).toBe(0o600);

    const up = await cluster.run(["up"]);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(up.stdout).not.toContain("newly initialised");
    const truth = await waitOneActive(urls(), 60_000);
    const url = urls()[truth.activeIndex] as string;
    const meta = await vaultRequest(url, "GET", "secret/metadata/app", { token: keys.rootToken });
    expect((meta.body.data as { current_version: number }).current_version).toBe(version);
    expect(await readKv(url, keys.rootToken, 1)).toBe("first");
    expect(await readKv(url, keys.rootToken, 2)).toBe("second");
  });

  it("restore refuses running nodes and a table with items (exit 5, one line) and changes nothing", async () => {
    await ensureUp();
    const backup = await cluster.run(["backup", "-o", "refuse.json"]);
    expect(backup.exitCode, backup.stderr).toBe(0);
    await waitOneActive(urls(), 5_000);

    const running = await cluster.run(["restore", "refuse.json"]);
    expect(running.exitCode).toBe(5);
    expect(errorLines(running.stderr)).toHaveLength(1);
    expect(running.stderr).toMatch(/vault-1, vault-2 of project \S+ are running/);

    // Nodes stopped behind vault-ha's back, DynamoDB left running with its data.
    for (const name of NODES) await (await serviceContainer(cluster.project, name)).stop();
    const itemsBefore = fingerprint(await scanTable());
    const full = await cluster.run(["restore", "refuse.json"]);
    expect(full.exitCode).toBe(5);
    expect(errorLines(full.stderr)).toHaveLength(1);
    expect(full.stderr).toMatch(
      /table vault-data of project \S+ has \d+ items; restore writes only into an empty table: add --force/,
    );
    expect(fingerprint(await scanTable())).toEqual(itemsBefore);
    for (const name of NODES) {
      const state = (await (await serviceContainer(cluster.project, name)).inspect()).State;
      expect(state.Running).toBe(false);
    }
  });

  it("--passphrase-file encrypts the keys; a wrong passphrase is exit 2; restore --up brings the cluster back with them", async () => {
    const { keys, activeUrl } = await ensureUp();
    await writeKv(activeUrl, keys.rootToken);
    await writeFile(inCwd("pass.txt"), "correct horse battery staple\n", { mode: 0o600 });
    await writeFile(inCwd("wrong.txt"), "wrong horse\n", { mode: 0o600 });
    const backup = await cluster.run(["backup", "-o", "enc.json", "--passphrase-file", "pass.txt"]);
    expect(backup.exitCode, backup.stderr).toBe(0);
    expect(backup.stdout).toContain("encrypted with the passphrase in pass.txt");
    const text = await readFile(inCwd("enc.json"), "utf8");
    expect(text).not.toContain(keys.rootToken);
    for (const key of keys.keys) expect(text).not.toContain(key);
    await waitOneActive(urls(), 5_000);

    const wrong = await cluster.run(["restore", "enc.json", "--passphrase-file", "wrong.txt"]);
    expect(wrong.exitCode).toBe(2);
    expect(wrong.stderr.trim()).toBe(
      "error: wrong passphrase for the keys in enc.json (or the file was changed); check the --passphrase-file",
    );
    const missing = await cluster.run(["restore", "enc.json"]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain("pass it with --passphrase-file");

    const reset = await cluster.run(["reset", "--yes"]);
    expect(reset.exitCode, reset.stderr).toBe(0);
    const restore = await cluster.run([
      "restore",
      "enc.json",
      "--passphrase-file",
      "pass.txt",
      "--up",
    ]);
    expect(restore.exitCode, restore.stderr).toBe(0);
    expect(restore.stdout).toMatch(/cluster \S+ is up: 2 nodes, vault-\d active/);
    expect((await readKeys()).rootToken).toBe(keys.rootToken);
    const truth = await waitOneActive(urls(), 60_000);
    expect(await readKv(urls()[truth.activeIndex] as string, keys.rootToken, 2)).toBe("second");
  });

  it("--without-keys leaves the keys and root token out of the file", async () => {
    const { keys } = await ensureUp();
    const backup = await cluster.run(["backup", "-o", "nokeys.json", "--without-keys", "--json"]);
    expect(backup.exitCode, backup.stderr).toBe(0);
    expect(JSON.parse(backup.stdout)).toMatchObject({
      keys: "left-out",
      stoppedNodes: NODES,
    });
    const text = await readFile(inCwd("nokeys.json"), "utf8");
    expect(text).not.toContain(keys.rootToken);
    for (const key of keys.keys) expect(text).not.toContain(key);
    expect(JSON.parse(text).keys).toBeUndefined();
    await waitOneActive(urls(), 5_000);
  });

  it("aws runs the AWS CLI in the DynamoDB container and passes on its exit code", async () => {
    await ensureUp();
    const configArgs = [
      "--project",
      cluster.project,
      "--vault-port",
      String(cluster.vaultPort),
      "--dynamodb-port",
      String(cluster.dynamodbPort),
      "--nodes",
      String(NODES.length),
    ];
    const env = { VAULT_HA_STATE_DIR: cluster.stateDir };
    const list = await runCli(["aws", ...configArgs, "--", "dynamodb", "list-tables"], {
      cwd: cluster.cwd,
      env,
    });
    expect(list.exitCode, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).TableNames).toContain("vault-data");

    const missing = await runCli(
      ["aws", ...configArgs, "--", "dynamodb", "describe-table", "--table-name", "no-such-table"],
      { cwd: cluster.cwd, env },
    );
    // 254: the service refused the call (AWS CLI v2); 255 in v1.
    expect([254, 255]).toContain(missing.exitCode);
    expect(missing.stderr).toContain("ResourceNotFoundException");
    // Docker still runs exactly the project's containers: aws started nothing.
    expect(
      (
        await docker.listContainers({
          filters: { label: [`com.docker.compose.project=${cluster.project}`] },
        })
      ).length,
    ).toBe(3);
  });
});
