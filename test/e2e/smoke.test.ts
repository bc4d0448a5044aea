import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.js";
import { docker, projectResources, removeProject, serviceContainer } from "../support/docker.js";
import { freePorts, testProject } from "../support/names.js";
import { eventually, healthCode, vaultRequest } from "../support/vault-http.js";

// The test bed's own proof: the rendered Compose file alone, driven through
// `docker compose` and Vault's HTTP API directly (not through `vault-ha up`).
let project: string;
const ports = { vault: 0, dynamodb: 0 };
let urls: string[] = [];

let dir: string;
let file: string;
const compose = (...args: string[]) =>
  execa("docker", ["compose", "-p", project, "-f", file, ...args], { reject: false, all: true });

async function modes(): Promise<(number | "down")[]> {
  return Promise.all(urls.map(healthCode));
}

async function activeIndex(): Promise<number> {
  const codes = await modes();
  return codes.indexOf(200);
}

describe("smoke: the rendered file runs a real Vault HA cluster on real DynamoDB Local", () => {
  let keys: string[] = [];
  let token = "";

  beforeAll(async () => {
    project = testProject("smoke");
    ports.dynamodb = await freePorts(4);
    ports.vault = ports.dynamodb + 1;
    urls = [0, 1, 2].map((offset) => `http://127.0.0.1:${ports.vault + offset}`);
    dir = await mkdtemp(path.join(tmpdir(), "vault-ha-smoke-"));
    file = path.join(dir, "compose.yml");
    const rendered = await runCli(
      [
        "render",
        "-o",
        file,
        "--project",
        project,
        "--vault-port",
        String(ports.vault),
        "--dynamodb-port",
        String(ports.dynamodb),
      ],
      { cwd: dir },
    );
    expect(rendered.exitCode, rendered.stderr).toBe(0);
    const up = await compose("up", "-d", "--build", "--wait", "--wait-timeout", "300");
    expect(up.exitCode, up.all).toBe(0);
  });

  afterAll(async () => {
    await compose("down", "--volumes", "--remove-orphans");
    await removeProject(project);
    await rm(dir, { recursive: true, force: true });
  });

  it("starts every node sealed and uninitialised, after the table exists", async () => {
    for (const url of urls) {
      const { status, body } = await vaultRequest(url, "GET", "sys/health");
      expect(status).toBe(501);
      expect(body.initialized).toBe(false);
    }
    const table = await compose("logs", "dynamodb-table");
    expect(table.all).toContain("table vault-data created");
  });

  it("initialises with 5 shares / threshold 3 and unseals every node: one active, two standby", async () => {
    const init = await vaultRequest(urls[0] as string, "PUT", "sys/init", {
      body: { secret_shares: 5, secret_threshold: 3 },
    });
    expect(init.status).toBe(200);
    keys = init.body.keys as string[];
    token = init.body.root_token as string;
    expect(keys).toHaveLength(5);
    for (const url of urls) {
      for (const key of keys.slice(0, 3))
        await vaultRequest(url, "PUT", "sys/unseal", { body: { key } });
    }
    const codes = await eventually("one active and two standbys", 60_000, async () => {
      const current = await modes();
      return current.filter((code) => code === 200).length === 1 &&
        current.filter((code) => code === 429).length === 2
        ? current
        : undefined;
    });
    const active = codes.indexOf(200);
    for (const url of urls) {
      const leader = await vaultRequest(url, "GET", "sys/leader");
      expect(leader.body.ha_enabled).toBe(true);
      expect(leader.body.leader_address).toBe(`http://vault-${active + 1}:8200`);
    }
  });

  it("writes a secret through the active node and reads it through a standby's host port", async () => {
    const active = await activeIndex();
    const activeUrl = urls[active] as string;
    const mount = await vaultRequest(activeUrl, "POST", "sys/mounts/secret", {
      token,
      body: { type: "kv", options: { version: "2" } },
    });
    expect(mount.status).toBe(204);
    const write = await vaultRequest(activeUrl, "POST", "secret/data/smoke", {
      token,
      body: { data: { answer: "42" } },
    });
    expect(write.status).toBe(200);
    const standbyUrl = urls[(active + 1) % 3] as string;
    const read = await eventually("the secret through a standby", 15_000, async () => {
      const result = await vaultRequest(standbyUrl, "GET", "secret/data/smoke", { token });
      return result.status === 200 ? result : undefined;
    });
    expect((read.body.data as { data: { answer: string } }).data.answer).toBe("42");
  });

  it("fails over after docker kill of the active node, within the lock TTL plus a margin", async () => {
    const active = await activeIndex();
    const container = await serviceContainer(project, `vault-${active + 1}`);
    const started = Date.now();
    await container.kill();
    const next = await eventually(
      "another node to become active",
      60_000,
      async () => {
        const codes = await modes();
        const index = codes.indexOf(200);
        return index >= 0 && index !== active ? index : undefined;
      },
      100,
    );
    const failoverMs = Date.now() - started;
    console.log(`smoke: failover after docker kill took ${failoverMs} ms`);
    // Vault's DynamoDB lock TTL is 15 s; the killed holder cannot release it.
    expect(failoverMs).toBeLessThan(15_000 + 20_000);
    const read = await vaultRequest(urls[next] as string, "GET", "secret/data/smoke", { token });
    expect(read.status).toBe(200);
  });

  it("down without volumes, then up: sealed, initialised, same keys unseal, secret still there", async () => {
    expect((await compose("down")).exitCode).toBe(0);
    // Without --wait this time (the first start proved it): `up -d` returns
    // once the nodes run, the table job having finished; then each answers.
    const up = await compose("up", "-d");
    expect(up.exitCode, up.all).toBe(0);
    await eventually("every node to answer after the restart", 60_000, async () => {
      const codes = await modes();
      return codes.every((code) => code !== "down") ? codes : undefined;
    });
    for (const url of urls) {
      const { status, body } = await vaultRequest(url, "GET", "sys/health");
      expect(status).toBe(503);
      expect(body.initialized).toBe(true);
      for (const key of keys.slice(0, 3))
        await vaultRequest(url, "PUT", "sys/unseal", { body: { key } });
    }
    const active = await eventually("an active node after restart", 60_000, async () => {
      const index = await activeIndex();
      return index >= 0 ? index + 1 : undefined;
    });
    const read = await vaultRequest(urls[active - 1] as string, "GET", "secret/data/smoke", {
      token,
    });
    expect((read.body.data as { data: { answer: string } }).data.answer).toBe("42");
  });

  it("the AWS CLI inside the DynamoDB container sees Vault's table with the Path/Key schema", async () => {
    const endpoint = "http://127.0.0.1:8000";
    const list = await compose(
      "exec",
      "-T",
      "dynamodb",
      "aws",
      "dynamodb",
      "list-tables",
      "--endpoint-url",
      endpoint,
    );
    expect(list.exitCode, list.all).toBe(0);
    expect(JSON.parse(list.stdout as string).TableNames).toContain("vault-data");
    const describe = await compose(
      "exec",
      "-T",
      "dynamodb",
      "aws",
      "dynamodb",
      "describe-table",
      "--table-name",
      "vault-data",
      "--endpoint-url",
      endpoint,
    );
    const table = JSON.parse(describe.stdout as string).Table;
    expect(table.KeySchema).toEqual([
      { AttributeName: "Path", KeyType: "HASH" },
      { AttributeName: "Key", KeyType: "RANGE" },
    ]);
    expect(table.ItemCount).toBeGreaterThan(0);
  });

  it("teardown removes every container, network and volume it created", async () => {
    expect((await compose("down", "--volumes", "--remove-orphans")).exitCode).toBe(0);
    expect(await projectResources(project)).toEqual({ containers: [], networks: [], volumes: [] });
    const anonymous = await docker.listVolumes({ filters: { dangling: ["true"] } });
    expect(
      (anonymous.Volumes ?? []).filter(
        (volume) => volume.Labels?.["com.docker.compose.project"] === project,
      ),
    ).toEqual([]);
  });
});
