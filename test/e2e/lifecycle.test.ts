import { readFile, rename, stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClusterStatus } from "../../src/core/cluster-status.js";
import { type CliCluster, cliCluster } from "../support/cli-cluster.js";
import { docker, projectResources, serviceContainer } from "../support/docker.js";
import { testProject } from "../support/names.js";
import { expectOneActive, haLockItem, nodeTruth, waitOneActive } from "../support/oracle.js";
import { eventually, vaultRequest } from "../support/vault-http.js";

// One 3-node cluster, driven through the built CLI. Every test starts from
// "up and healthy" through ensureUp() (an idempotent `up`), so any single
// test runs alone with -t and no test leans on another's leftovers. What
// the cluster is, is asked of Vault and DynamoDB directly (support/oracle).
let cluster: CliCluster;

interface Keys {
  rootToken: string;
  keys: string[];
}

const keysFile = () => path.join(cluster.stateDir, cluster.project, "init.json");
const readKeys = async (): Promise<Keys> => JSON.parse(await readFile(keysFile(), "utf8"));
const urls = () => cluster.urls(3);
const dynamodb = () => ({ endpoint: `http://127.0.0.1:${cluster.dynamodbPort}` });

async function statusJson(): Promise<ClusterStatus> {
  const result = await cluster.run(["status", "--json"]);
  return JSON.parse(result.stdout) as ClusterStatus;
}

/** `up` (idempotent), checked through the oracle; returns the keys. */
async function ensureUp(): Promise<Keys> {
  const up = await cluster.run(["up"]);
  expect(up.exitCode, up.stderr).toBe(0);
  await expectOneActive(urls(), dynamodb());
  return readKeys();
}

function expectNoSecrets(text: string, keys: Keys) {
  expect(text).not.toContain(keys.rootToken);
  for (const key of keys.keys) expect(text).not.toContain(key);
}

async function kvSecret(url: string, token: string, name: string, value?: string) {
  if (value !== undefined) {
    await vaultRequest(url, "POST", "sys/mounts/secret", {
      token,
      body: { type: "kv", options: { version: "2" } },
    });
    const write = await vaultRequest(url, "POST", `secret/data/${name}`, {
      token,
      body: { data: { value } },
    });
    expect(write.status).toBe(200);
  }
  const read = await vaultRequest(url, "GET", `secret/data/${name}`, { token });
  return read.status === 200 ? (read.body.data as { data: { value: string } }).data.value : read;
}

describe("vault-ha up and the lifecycle commands, on a real 3-node cluster", () => {
  beforeAll(async () => {
    cluster = await cliCluster("life");
  });
  afterAll(async () => {
    await cluster.cleanup();
  });

  it("up from nothing: one active, two standby (raw sys/health and the lock item), keys owner-only and never printed", async () => {
    const fresh = await cluster.run(["reset", "--yes"]);
    expect(fresh.exitCode, fresh.stderr).toBe(0);
    const up = await cluster.run(["up"]);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(up.stdout).toContain(`cluster ${cluster.project} is up: 3 nodes`);
    expect(up.stdout).toContain("(newly initialised)");
    // Progress with elapsed time per step, in the order that avoids the
    // table race: DynamoDB, then the table (from the host), then the nodes.
    expect(up.stderr).toMatch(
      /✔ starting DynamoDB Local \(\d+\.\d+s\)[\s\S]*✔ creating table vault-data \(\d+\.\d+s\)[\s\S]*✔ starting 3 Vault nodes \(\d+\.\d+s\)/,
    );
    // vault-ha created the table itself: Compose's one-shot job never ran.
    expect(
      await docker.listContainers({
        all: true,
        filters: {
          label: [
            `com.docker.compose.project=${cluster.project}`,
            "com.docker.compose.service=dynamodb-table",
          ],
        },
      }),
    ).toEqual([]);

    const stored = await readKeys();
    expect(stored.keys).toHaveLength(5);
    expect((await stat(keysFile())).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(keysFile()))).mode & 0o777).toBe(0o700);
    expectNoSecrets(up.stdout + up.stderr, stored);

    const active = await expectOneActive(urls(), dynamodb());
    // vault-ha's own report agrees with the oracle, node for node.
    const status = await statusJson();
    expect(status.active).toBe(`vault-${active + 1}`);
    expect(status.nodes.map((node) => node.url)).toEqual(urls());
    // Each node's container, as Docker names it, for scripts that `docker exec`.
    for (const node of status.nodes) {
      const inspected = await (await serviceContainer(cluster.project, node.name)).inspect();
      expect(node.containerId).toBe(inspected.Id);
      expect(`/${node.containerName}`).toBe(inspected.Name);
    }
    expect(status.dynamodb).toMatchObject({
      healthy: true,
      table: "vault-data",
      endpoint: dynamodb().endpoint,
      tableStatus: "ACTIVE",
    });
    // The only volume is the labelled data volume: no anonymous volume per container.
    expect((await projectResources(cluster.project)).volumes).toEqual([
      `${cluster.project}_dynamodb-data`,
    ]);
  });

  it("up again on a healthy cluster changes nothing and says so", async () => {
    const keys = await ensureUp();
    const containersBefore = (await projectResources(cluster.project)).containers.sort();
    const again = await cluster.run(["up", "--json"]);
    expect(again.exitCode, again.stderr).toBe(0);
    const summary = JSON.parse(again.stdout);
    expect(summary).toMatchObject({ changed: false, initialized: false, unsealed: [] });
    expect(summary.rootToken).toBeUndefined();
    expect((await projectResources(cluster.project)).containers.sort()).toEqual(containersBefore);
    expectNoSecrets(again.stdout + again.stderr, keys);
    const text = await cluster.run(["up"]);
    expect(text.stdout).toContain("is already up and unsealed; nothing to do");
  });

  it("--show-secrets prints the root token and unseal keys, in text and JSON, only when asked", async () => {
    const keys = await ensureUp();
    const json = await cluster.run(["up", "--json", "--show-secrets"]);
    expect(json.exitCode, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({
      rootToken: keys.rootToken,
      unsealKeys: keys.keys,
    });
    const text = await cluster.run(["up", "--show-secrets"]);
    expect(text.stdout).toContain(`root token: ${keys.rootToken}`);
    expect(text.stdout).toContain(`unseal key 5: ${keys.keys[4]}`);
    expectNoSecrets(text.stderr, keys);
  });

  it("status --watch --json prints a document when something changes, until stopped", async () => {
    await ensureUp();
    const child = cluster.spawn(["status", "--watch", "--json", "--interval", "0.2"], "pipe");

    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    try {
      // The first document, then one more after a standby is sealed.
      // One JSON document per line (NDJSON), the first at once.
      const documents = () =>
        out
          .split("\n")
          .filter((line) => line.startsWith("{"))
          .map((line) => JSON.parse(line) as ClusterStatus);
      await eventually("a first status document", 30_000, async () => documents().length > 0);
      const active = await expectOneActive(urls());
      const standby = `vault-${((active + 1) % 3) + 1}`;
      expect((await cluster.run(["seal", standby])).exitCode).toBe(0);
      const docs = await eventually("a document showing the sealed node", 30_000, async () =>
        documents().some((doc) =>
          doc.nodes.some((node) => node.name === standby && node.mode === "sealed"),
        )
          ? documents()
          : undefined,
      );
      expect(docs[0]?.summary).toBe("healthy");
    } finally {
      child.kill("SIGINT");
    }
  });

  it("after docker restart of every Vault container, up unseals all three and old secrets read", async () => {
    const keys = await ensureUp();
    const active = await expectOneActive(urls());
    expect(await kvSecret(urls()[active] as string, keys.rootToken, "app", "hunter2")).toBe(
      "hunter2",
    );

    for (const name of ["vault-1", "vault-2", "vault-3"])
      await (await serviceContainer(cluster.project, name)).restart();
    // Raw: every node is sealed now.
    await eventually("every node sealed after the restart", 30_000, async () => {
      const truth = await Promise.all(urls().map(nodeTruth));
      return truth.every((node) => node.health === 503);
    });

    const up = await cluster.run(["up", "--json"]);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout).unsealed.sort()).toEqual(["vault-1", "vault-2", "vault-3"]);
    const healed = await expectOneActive(urls(), dynamodb());
    expect(await kvSecret(urls()[healed] as string, keys.rootToken, "app")).toBe("hunter2");
  });

  it("step-down moves the active role: the oracle and the lock item see the new holder", async () => {
    await ensureUp();
    const before = await expectOneActive(urls());
    const lockBefore = await haLockItem(dynamodb().endpoint);
    const result = await cluster.run(["step-down", "--json"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const moved = JSON.parse(result.stdout);
    expect(moved.from).toBe(`vault-${before + 1}`);
    const after = await waitOneActive(urls(), 30_000);
    expect(moved.to).toBe(`vault-${after.activeIndex + 1}`);
    expect(moved.to).not.toBe(moved.from);
    expect(moved.elapsedMs).toBeGreaterThan(100);
    expect((await haLockItem(dynamodb().endpoint))?.identity).not.toBe(lockBefore?.identity);
    const text = await cluster.run(["step-down"]);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^vault-\d stepped down; vault-\d is active after \d+\.\d s$/m);
  });

  it("seal and unseal a named standby (raw 503, then 429); status exits 4 while one is sealed and 0 when healthy", async () => {
    await ensureUp();
    const healthy = await cluster.run(["status"]);
    expect(healthy.exitCode, healthy.stderr).toBe(0);
    const active = await expectOneActive(urls());
    const standbyIndex = (active + 1) % 3;
    const standby = `vault-${standbyIndex + 1}`;
    const seal = await cluster.run(["seal", standby]);
    expect(seal.exitCode, seal.stderr).toBe(0);
    expect((await nodeTruth(urls()[standbyIndex] as string)).health).toBe(503);
    const notHealthy = await cluster.run(["status"]);
    expect(notHealthy.exitCode).toBe(4);
    const unseal = await cluster.run(["unseal", standby]);
    expect(unseal.exitCode, unseal.stderr).toBe(0);
    expect(unseal.stdout).toContain(`unsealed ${standby}`);
    await waitOneActive(urls(), 30_000);
  });

  it("seal of the active node goes through sys/seal; unseal with no names unseals every sealed node", async () => {
    await ensureUp();
    const active = await expectOneActive(urls());
    const name = `vault-${active + 1}`;
    const seal = await cluster.run(["seal", name]);
    expect(seal.exitCode, seal.stderr).toBe(0);
    expect(seal.stdout).toContain(`sealed ${name} (sys/seal)`);
    expect((await nodeTruth(urls()[active] as string)).health).toBe(503);
    // Another node takes over while the sealed one waits.
    await waitOneActive(urls(), 60_000, { tolerate: [urls()[active] as string] });
    const unseal = await cluster.run(["unseal"]);
    expect(unseal.exitCode, unseal.stderr).toBe(0);
    expect(unseal.stdout).toBe(`unsealed ${name}`);
    await waitOneActive(urls(), 30_000);
  });

  it("env: VAULT_ADDR answers 200 (the active node), the token works, and the AWS settings reach DynamoDB Local", async () => {
    await ensureUp();
    const env = await cluster.run(["env", "--format", "json"]);
    expect(env.exitCode, env.stderr).toBe(0);
    const variables = JSON.parse(env.stdout);
    expect((await nodeTruth(variables.VAULT_ADDR)).health).toBe(200);
    expect(variables.AWS_ENDPOINT_URL_DYNAMODB).toBe(dynamodb().endpoint);
    const self = await vaultRequest(variables.VAULT_ADDR, "GET", "auth/token/lookup-self", {
      token: variables.VAULT_TOKEN,
    });
    expect(self.status).toBe(200);
    const lock = await haLockItem(variables.AWS_ENDPOINT_URL_DYNAMODB);
    expect(lock).toBeDefined();
  });

  it("logs shows one service's output; an unknown service exits non-zero", async () => {
    await ensureUp();
    const logs = await cluster.run(["logs", "vault-1", "--tail", "20"]);
    expect(logs.exitCode, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/vault-1-1\s+\|/);
    const missing = await cluster.run(["logs", "vault-9"]);
    expect(missing.exitCode).toBe(6);
  });

  it("an initialised cluster whose keys are missing: exit 5 naming reset, nothing deleted", async () => {
    await ensureUp();
    const aside = `${keysFile()}.moved`;
    await rename(keysFile(), aside);
    try {
      const before = await projectResources(cluster.project);
      const up = await cluster.run(["up"]);
      expect(up.exitCode).toBe(5);
      expect(up.stderr).toContain("vault-ha reset");
      expect(await projectResources(cluster.project)).toEqual(before);
    } finally {
      await rename(aside, keysFile());
    }
  });

  it("down keeps data and keys; the next up brings back the same cluster", async () => {
    const keys = await ensureUp();
    const active = await expectOneActive(urls());
    expect(await kvSecret(urls()[active] as string, keys.rootToken, "kept", "yes")).toBe("yes");
    const down = await cluster.run(["down"]);
    expect(down.exitCode, down.stderr).toBe(0);
    const resources = await projectResources(cluster.project);
    expect(resources.containers).toEqual([]);
    expect(resources.networks).toEqual([]);
    expect(resources.volumes).toEqual([`${cluster.project}_dynamodb-data`]);
    const up = await cluster.run(["up", "--json"]);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout)).toMatchObject({ changed: true, initialized: false });
    const again = await expectOneActive(urls(), dynamodb());
    expect(await kvSecret(urls()[again] as string, keys.rootToken, "kept")).toBe("yes");
  });

  it("reset --yes removes the labelled volume and the state, and nothing else of the same project or any other", async () => {
    await ensureUp();
    const bystanders: { Name: string; Labels: Record<string, string> }[] = [
      // Another project's data volume.
      {
        Name: `${cluster.project}-bystander`,
        Labels: {
          "dev.vault-ha.project": testProject("else"),
          "dev.vault-ha.role": "dynamodb-data",
        },
      },
      // This project's label, but not its data volume.
      {
        Name: `${cluster.project}-other-role`,
        Labels: { "dev.vault-ha.project": cluster.project, "dev.vault-ha.role": "backup" },
      },
      // No label at all.
      { Name: `${cluster.project}-unlabelled`, Labels: {} },
    ];
    for (const volume of bystanders) await docker.createVolume(volume);
    try {
      const refused = await cluster.run(["reset"]);
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr).toContain("--yes");

      const reset = await cluster.run(["reset", "--yes"]);
      expect(reset.exitCode, reset.stderr).toBe(0);
      expect(reset.stdout).toContain(`${cluster.project}_dynamodb-data`);
      expect(await projectResources(cluster.project)).toEqual({
        containers: [],
        networks: [],
        volumes: [],
      });
      await expect(stat(path.dirname(keysFile()))).rejects.toThrow();
      for (const volume of bystanders)
        expect((await docker.getVolume(volume.Name).inspect()).Name).toBe(volume.Name);

      const fresh = await cluster.run(["up", "--json"]);
      expect(fresh.exitCode, fresh.stderr).toBe(0);
      expect(JSON.parse(fresh.stdout)).toMatchObject({ changed: true, initialized: true });
      await expectOneActive(urls(), dynamodb());
    } finally {
      for (const volume of bystanders) await docker.getVolume(volume.Name).remove();
    }
  });
});
