import { readFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { actionOfTarget } from "../../src/core/iam-policy.js";
import { type CliCluster, cliCluster } from "../support/cli-cluster.js";
import { serviceContainer } from "../support/docker.js";
import { haLockItem, waitOneActive } from "../support/oracle.js";
import { vaultRequest } from "../support/vault-http.js";

// The IAM policy is checked against what Vault really sends, not against
// Vault's docs (which list more actions than the backend calls): a recording
// proxy sits between the Vault nodes and DynamoDB Local and keeps every
// X-Amz-Target through up, a KV write/read/list/delete, a step-down and a
// kill of the active node. vault-ha itself reaches DynamoDB Local on its
// published port, so only Vault's requests pass the proxy.

interface Recorded {
  readonly target: string;
  readonly userAgent: string;
  readonly phase: string;
}

interface PolicyJson {
  actions: string[];
  resource: string;
  createTable: { included: boolean };
  updateTable: { included: boolean };
}

/**
 * The host's address on docker0: Vault containers on the project's bridge
 * reach the host through it. From `ip`, not os.networkInterfaces(), which
 * leaves out docker0 while no container sits on it (the link is down, the
 * address still answers).
 */
async function dockerHostAddress(): Promise<string> {
  const { stdout } = await execa("ip", ["-4", "-o", "addr", "show", "docker0"]);
  const address = /inet (\d+\.\d+\.\d+\.\d+)\//.exec(stdout)?.[1];
  if (!address) throw new Error(`no IPv4 address on docker0 (ip said: ${stdout})`);
  return address;
}

/** Forwards to DynamoDB Local on the host and records each request's target. */
function recordingProxy(upstreamPort: () => number, phase: () => string) {
  const recorded: Recorded[] = [];
  const failures: string[] = [];
  const server = http.createServer((request, response) => {
    recorded.push({
      target: String(request.headers["x-amz-target"] ?? ""),
      userAgent: String(request.headers["user-agent"] ?? ""),
      phase: phase(),
    });
    const upstream = http.request(
      {
        host: "127.0.0.1",
        port: upstreamPort(),
        method: request.method,
        path: request.url,
        headers: request.headers,
      },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on("error", (error) => {
      failures.push(error.message);
      if (!response.headersSent) response.writeHead(502);
      response.end();
    });
    request.pipe(upstream);
  });
  return { server, recorded, failures };
}

describe("iam-policy: exactly the DynamoDB actions Vault calls", () => {
  let cluster: CliCluster;
  let phase = "up";
  let proxy: ReturnType<typeof recordingProxy>;
  let token = "";
  const urls = () => cluster.urls(2);
  const lock = () => haLockItem(`http://127.0.0.1:${cluster.dynamodbPort}`);

  beforeAll(async () => {
    proxy = recordingProxy(
      () => cluster.dynamodbPort,
      () => phase,
    );
    await new Promise<void>((resolve) => proxy.server.listen(0, "0.0.0.0", resolve));
    const { port } = proxy.server.address() as AddressInfo;
    cluster = await cliCluster("iam", [
      "--set",
      `storage.endpoint=http://${await dockerHostAddress()}:${port}`,
    ]);
    const up = await cluster.run(["up", "--nodes", "2", "--json"]);
    expect(up.exitCode, up.stderr).toBe(0);
    const init = JSON.parse(
      await readFile(path.join(cluster.stateDir, cluster.project, "init.json"), "utf8"),
    ) as { rootToken: string };
    token = init.rootToken;
  });

  afterAll(async () => {
    await cluster?.cleanup();
    proxy.server.closeAllConnections();
    await new Promise((resolve) => proxy.server.close(resolve));
  });

  it("Vault's traffic passes the proxy: init and unseal went through it", async () => {
    await waitOneActive(urls(), 60_000);
    const targets = new Set(proxy.recorded.map((entry) => entry.target));
    expect(targets.has("DynamoDB_20120810.DescribeTable")).toBe(true);
    expect(targets.has("DynamoDB_20120810.UpdateItem")).toBe(true);
  });

  it("a KV write, read, list and delete", async () => {
    phase = "kv";
    const { activeIndex } = await waitOneActive(urls(), 30_000);
    const url = urls()[activeIndex] as string;
    const mount = await vaultRequest(url, "POST", "sys/mounts/iamkv", {
      token,
      body: { type: "kv" },
    });
    expect(mount.status).toBe(204);
    const write = await vaultRequest(url, "POST", "iamkv/probe", {
      token,
      body: { value: "recorded" },
    });
    expect(write.status).toBe(204);
    const read = await vaultRequest(url, "GET", "iamkv/probe", { token });
    expect((read.body.data as { value: string }).value).toBe("recorded");
    const list = await vaultRequest(url, "GET", "iamkv/?list=true", { token });
    expect((list.body.data as { keys: string[] }).keys).toEqual(["probe"]);
    const remove = await vaultRequest(url, "DELETE", "iamkv/probe", { token });
    expect(remove.status).toBe(204);
    expect((await vaultRequest(url, "GET", "iamkv/probe", { token })).status).toBe(404);
  });

  it("a step-down: the lock is released and taken over", async () => {
    phase = "step-down";
    const before = await waitOneActive(urls(), 30_000);
    const lockBefore = await lock();
    expect(lockBefore).toBeDefined();
    const stepDown = await vaultRequest(
      urls()[before.activeIndex] as string,
      "PUT",
      "sys/step-down",
      {
        token,
      },
    );
    expect(stepDown.status).toBe(204);
    const after = await waitOneActive(urls(), 60_000);
    expect(after.activeIndex).not.toBe(before.activeIndex);
    expect((await lock())?.identity).not.toBe(lockBefore?.identity);
  });

  it("a kill of the active node: the standby takes the lock once it expires", async () => {
    phase = "kill";
    const before = await waitOneActive(urls(), 30_000);
    const lockBefore = await lock();
    const killed = urls()[before.activeIndex] as string;
    await (await serviceContainer(cluster.project, `vault-${before.activeIndex + 1}`)).kill();
    const after = await waitOneActive(urls(), 90_000, { tolerate: [killed] });
    expect(after.activeIndex).not.toBe(before.activeIndex);
    expect((await lock())?.identity).not.toBe(lockBefore?.identity);
  });

  it("the policy's actions are exactly the recorded ones, plus CreateTable only as documented", async () => {
    const recorded = new Set(proxy.recorded.map((entry) => actionOfTarget(entry.target)));
    // Every recorded request came from Vault's Go SDK, none from vault-ha.
    const agents = new Set(proxy.recorded.map((entry) => entry.userAgent.split(" ")[0]));
    expect([...agents].every((agent) => agent?.startsWith("aws-sdk-go"))).toBe(true);
    // vault-ha made the table before Vault started, so Vault never created it here.
    expect(recorded.has("dynamodb:CreateTable")).toBe(false);

    const existing = await cluster.run(["iam-policy", "--existing-table", "--json"]);
    expect(existing.exitCode, existing.stderr).toBe(0);
    const strict = JSON.parse(existing.stdout) as PolicyJson;
    expect([...strict.actions].sort()).toEqual([...recorded].sort());
    expect(strict.createTable.included).toBe(false);

    const byDefault = await cluster.run(["iam-policy", "--account", "123456789012", "--json"]);
    expect(byDefault.exitCode, byDefault.stderr).toBe(0);
    const policy = JSON.parse(byDefault.stdout) as PolicyJson;
    expect([...policy.actions].sort()).toEqual([...recorded, "dynamodb:CreateTable"].sort());
    expect(policy.createTable.included).toBe(true);
    expect(policy.updateTable.included).toBe(false);
    expect(policy.resource).toBe("arn:aws:dynamodb:us-east-1:123456789012:table/vault-data");

    const perPhase = new Map<string, Set<string>>();
    for (const entry of proxy.recorded) {
      const targets = perPhase.get(entry.phase) ?? new Set<string>();
      perPhase.set(entry.phase, targets.add(entry.target.split(".")[1] ?? entry.target));
    }
    const summary = [...perPhase].map(
      ([name, targets]) => `${name}: ${[...targets].sort().join(" ")}`,
    );
    console.log(`recorded per phase (${proxy.recorded.length} requests)\n${summary.join("\n")}`);
  });
});
