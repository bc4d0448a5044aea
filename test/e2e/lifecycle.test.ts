import { readFile, rename, stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClusterStatus } from "../../src/core/cluster-status.js";
import { type CliCluster, cliCluster } from "../support/cli-cluster.js";
import { docker, projectResources, serviceContainer } from "../support/docker.js";
import { vaultRequest } from "../support/vault-http.js";

// One 3-node cluster walked through the whole lifecycle, through the built CLI.
let cluster: CliCluster;
let rootToken = "";
let unsealKeys: string[] = [];

const statusJson = async (): Promise<ClusterStatus> => {
  const result = await cluster.run(["status", "--json"]);
  return JSON.parse(result.stdout) as ClusterStatus;
};
const modesOf = (status: ClusterStatus) => status.nodes.map((node) => node.mode).sort();
const activeUrl = (status: ClusterStatus) =>
  status.nodes.find((node) => node.mode === "active")?.url as string;
const keysFile = () => path.join(cluster.stateDir, cluster.project, "init.json");

function expectNoSecrets(text: string) {
  expect(text).not.toContain(rootToken);
  for (const key of unsealKeys) expect(text).not.toContain(key);
}

describe("vault-ha up and the lifecycle commands, on a real 3-node cluster", () => {
  beforeAll(async () => {
    cluster = await cliCluster("vha-e2e-life", { vault: 18200, dynamodb: 18000 });
  });
  afterAll(async () => {
    await cluster.cleanup();
  });

  it("up from nothing: one active, two standby, keys stored owner-only and never printed", async () => {
    const up = await cluster.run(["up"]);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(up.stdout).toContain("cluster vha-e2e-life is up: 3 nodes");
    expect(up.stdout).toContain("(newly initialised)");
    expect(up.stderr).toMatch(/✔ starting DynamoDB Local and 3 Vault nodes .*\(\d+\.\d+s\)/);

    const stored = JSON.parse(await readFile(keysFile(), "utf8"));
    rootToken = stored.rootToken;
    unsealKeys = stored.keys;
    expect(unsealKeys).toHaveLength(5);
    expect((await stat(keysFile())).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(keysFile()))).mode & 0o777).toBe(0o700);
    expectNoSecrets(up.stdout + up.stderr);

    const status = await statusJson();
    expect(modesOf(status)).toEqual(["active", "standby", "standby"]);
    expect(status.dynamodb).toMatchObject({
      healthy: true,
      table: "vault-data",
      endpoint: "http://127.0.0.1:18000",
      tableStatus: "ACTIVE",
    });
    expect(status.nodes.map((node) => node.url)).toEqual([
      "http://127.0.0.1:18200",
      "http://127.0.0.1:18201",
      "http://127.0.0.1:18202",
    ]);
    // The only volume is the labelled data volume: no anonymous volume per container.
    expect((await projectResources(cluster.project)).volumes).toEqual([
      "vha-e2e-life_dynamodb-data",
    ]);
  });

  it("up again on a healthy cluster changes nothing and says so", async () => {
    const containersBefore = (await projectResources(cluster.project)).containers.sort();
    const again = await cluster.run(["up", "--json"]);
    expect(again.exitCode, again.stderr).toBe(0);
    const summary = JSON.parse(again.stdout);
    expect(summary).toMatchObject({ changed: false, initialized: false, unsealed: [] });
    expect(summary.rootToken).toBeUndefined();
    expect((await projectResources(cluster.project)).containers.sort()).toEqual(containersBefore);
    expectNoSecrets(again.stdout + again.stderr);
  });

  it("after docker restart of every Vault container, up unseals them and old secrets read", async () => {
    const status = await statusJson();
    const url = activeUrl(status);
    expect(
      (
        await vaultRequest(url, "POST", "sys/mounts/secret", {
          token: rootToken,
          body: { type: "kv", options: { version: "2" } },
        })
      ).status,
    ).toBe(204);
    expect(
      (
        await vaultRequest(url, "POST", "secret/data/app", {
          token: rootToken,
          body: { data: { password: "hunter2" } },
        })
      ).status,
    ).toBe(200);

    for (const name of ["vault-1", "vault-2", "vault-3"])
      await (await serviceContainer(cluster.project, name)).restart();
    const sealed = await statusJson();
    expect(sealed.summary).not.toBe("healthy");

    const up = await cluster.run(["up"]);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(up.stdout).toContain("unsealed");
    const healed = await statusJson();
    expect(modesOf(healed)).toEqual(["active", "standby", "standby"]);
    const read = await vaultRequest(activeUrl(healed), "GET", "secret/data/app", {
      token: rootToken,
    });
    expect((read.body.data as { data: { password: string } }).data.password).toBe("hunter2");
  });

  it("step-down moves the active role, and status --json shows it", async () => {
    const before = await statusJson();
    const result = await cluster.run(["step-down", "--json"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const moved = JSON.parse(result.stdout);
    expect(moved.from).toBe(before.active);
    expect(moved.to).not.toBe(before.active);
    expect(moved.elapsedMs).toBeGreaterThan(0);
    const after = await statusJson();
    expect(after.active).toBe(moved.to);
  });

  it("seal and unseal a named node", async () => {
    const status = await statusJson();
    const standby = status.nodes.find((node) => node.mode === "standby")?.name as string;
    const seal = await cluster.run(["seal", standby]);
    expect(seal.exitCode, seal.stderr).toBe(0);
    expect((await statusJson()).nodes.find((node) => node.name === standby)?.mode).toBe("sealed");
    const notHealthy = await cluster.run(["status"]);
    expect(notHealthy.exitCode).toBe(4);
    const unseal = await cluster.run(["unseal", standby]);
    expect(unseal.exitCode, unseal.stderr).toBe(0);
    expect(unseal.stdout).toContain(`unsealed ${standby}`);
    expect((await statusJson()).nodes.find((node) => node.name === standby)?.mode).toBe("standby");
  });

  it("env prints VAULT_ADDR of the active node, a working token and DynamoDB settings", async () => {
    const env = await cluster.run(["env", "--format", "json"]);
    expect(env.exitCode, env.stderr).toBe(0);
    const variables = JSON.parse(env.stdout);
    expect(variables.VAULT_ADDR).toBe(activeUrl(await statusJson()));
    expect(variables.AWS_ENDPOINT_URL_DYNAMODB).toBe("http://127.0.0.1:18000");
    const self = await vaultRequest(variables.VAULT_ADDR, "GET", "auth/token/lookup-self", {
      token: variables.VAULT_TOKEN,
    });
    expect(self.status).toBe(200);
    const sh = await cluster.run(["env"]);
    expect(sh.stdout).toMatch(/^export VAULT_ADDR='http:\/\/127\.0\.0\.1:182\d\d'$/m);
  });

  it("logs shows one service's output", async () => {
    const logs = await cluster.run(["logs", "vault-1", "--tail", "20"]);
    expect(logs.exitCode, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/vault-1-1\s+\|/);
  });

  it("an initialised cluster whose keys are missing: exit 5 naming reset, nothing deleted", async () => {
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
    const down = await cluster.run(["down"]);
    expect(down.exitCode, down.stderr).toBe(0);
    const resources = await projectResources(cluster.project);
    expect(resources.containers).toEqual([]);
    expect(resources.volumes).toEqual(["vha-e2e-life_dynamodb-data"]);
    const up = await cluster.run(["up", "--json"]);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout)).toMatchObject({ changed: true, initialized: false });
    const status = await statusJson();
    const read = await vaultRequest(activeUrl(status), "GET", "secret/data/app", {
      token: rootToken,
    });
    expect(read.status).toBe(200);
  });

  it("reset --yes removes the labelled volume and the state, and nothing else", async () => {
    const bystander = await docker.createVolume({
      Name: "vha-e2e-life-bystander",
      Labels: { "dev.vault-ha.project": "someone-else", "dev.vault-ha.role": "dynamodb-data" },
    });
    try {
      const refused = await cluster.run(["reset"]);
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr).toContain("--yes");

      const reset = await cluster.run(["reset", "--yes"]);
      expect(reset.exitCode, reset.stderr).toBe(0);
      expect(reset.stdout).toContain("vha-e2e-life_dynamodb-data");
      expect(await projectResources(cluster.project)).toEqual({
        containers: [],
        networks: [],
        volumes: [],
      });
      await expect(stat(path.dirname(keysFile()))).rejects.toThrow();
      expect((await docker.getVolume(bystander.name).inspect()).Name).toBe(
        "vha-e2e-life-bystander",
      );

      const fresh = await cluster.run(["up", "--json"]);
      expect(fresh.exitCode, fresh.stderr).toBe(0);
      expect(JSON.parse(fresh.stdout)).toMatchObject({ changed: true, initialized: true });
    } finally {
      await docker
        .getVolume("vha-e2e-life-bystander")
        .remove()
        .catch(() => {});
    }
  });
});
