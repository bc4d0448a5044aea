import { readFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster } from "../../src/index.js";
import { runCli, withTempDir } from "../support/cli.js";
import { docker, projectResources, publishedNodeUrls } from "../support/docker.js";
import { testProject } from "../support/names.js";
import { waitOneActive } from "../support/oracle.js";
import { eventually, trustCa, vaultRequest } from "../support/vault-http.js";

// Production-shaped clusters (issue 13): TLS with a local CA, transit
// auto-unseal and an HAProxy balancer, each alone and all together, from
// nothing to reset, checked against Vault itself (raw HTTP with the CA, the
// host's own `vault` CLI), never through vault-ha's status.

interface UpJson {
  project: string;
  nodes: { name: string; url: string }[];
  activeUrl: string;
}

const TLS = ["--set", "tls=true"];
const LB = ["--set", "loadBalancer.enabled=true"];
const TRANSIT = ["--set", "seal.type=transit"];
const AWSKMS = ["--set", "seal.type=awskms"];
const variants = [
  { name: "tls", flags: TLS, tls: true, seal: "shamir", lb: false },
  { name: "transit", flags: TRANSIT, tls: false, seal: "transit", lb: false },
  { name: "awskms", flags: AWSKMS, tls: false, seal: "awskms", lb: false },
  { name: "lb", flags: LB, tls: false, seal: "shamir", lb: true },
  {
    name: "tls+transit+lb",
    flags: [...TLS, ...TRANSIT, ...LB],
    tls: true,
    seal: "transit",
    lb: true,
  },
  { name: "tls+awskms+lb", flags: [...TLS, ...AWSKMS, ...LB], tls: true, seal: "awskms", lb: true },
] as const;

/** What `vault-ha env` prints, as a map (json format). */
async function envOf(project: string): Promise<Record<string, string>> {
  const result = await runCli(["env", "--project", project, "--format", "json"]);
  expect(result.exitCode, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as Record<string, string>;
}

/** The host's `vault` CLI with exactly the variables `env` printed (no VAULT_SKIP_VERIFY). */
const hostVault = (variables: Record<string, string>, ...args: string[]) =>
  execa("vault", args, { env: variables, extendEnv: true, reject: false, all: true });

describe.each(variants)("production shape: $name", (variant) => {
  let project = "";
  let up: UpJson;
  /**
   * Each node's URL read from Docker now: ports Docker picked change when a
   * container restarts, so `up`'s answer is only right until then.
   */
  const urls = () =>
    publishedNodeUrls(
      project,
      up.nodes.map((node) => node.name),
      variant.tls ? "https" : "http",
    );
  /** Waits for one active node, reading the ports again each round. */
  const oneActive = async (budgetMs = 60_000) =>
    // A check that throws is "not yet" to eventually, which names the last failure.
    eventually("one active node on the current ports", budgetMs, async () =>
      waitOneActive(await urls(), 5_000),
    );

  beforeAll(async () => {
    project = testProject(`prod-${variant.name.replaceAll("+", "-")}`);
    const result = await runCli(
      ["up", "--ephemeral", "--project", project, "--nodes", "3", "--json", ...variant.flags],
      { timeout: 600_000 },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    up = JSON.parse(result.stdout) as UpJson;
    if (variant.tls) trustCa(await readFile((await envOf(project)).VAULT_CACERT as string, "utf8"));
  });

  afterAll(async () => {
    const reset = await runCli(["reset", "--yes", "--project", project]);
    expect(reset.exitCode, reset.stderr).toBe(0);
    expect(await projectResources(project)).toEqual({ containers: [], networks: [], volumes: [] });
  });

  it("up from nothing: one active node, every other a standby (raw sys/health)", async () => {
    for (const node of up.nodes)
      expect(node.url.startsWith(variant.tls ? "https://" : "http://")).toBe(true);
    expect(await urls()).toEqual(up.nodes.map((node) => node.url));
    await oneActive();
  });

  it("the host's vault CLI, given only what env prints, writes and reads a secret", async () => {
    const variables = await envOf(project);
    if (variant.tls) {
      expect(variables.VAULT_CACERT).toMatch(/ca\.pem$/);
      expect(variables.VAULT_SKIP_VERIFY).toBeUndefined();
      // Without the CA the certificate is refused: TLS is real, not skipped.
      const { VAULT_CACERT: _ca, ...withoutCa } = variables;
      const refused = await hostVault(withoutCa, "status");
      expect(refused.exitCode).not.toBe(0);
      expect(refused.all).toMatch(/certificate signed by unknown authority|x509/);
    }
    if (variant.lb)
      expect(new URL(variables.VAULT_ADDR as string).port).not.toBe(new URL(up.activeUrl).port);
    const enable = await hostVault(variables, "secrets", "enable", "-path=kv", "kv-v2");
    expect(enable.exitCode, enable.all).toBe(0);
    const put = await hostVault(variables, "kv", "put", "kv/prod", "answer=42");
    expect(put.exitCode, put.all).toBe(0);
    const get = await hostVault(variables, "kv", "get", "-field=answer", "kv/prod");
    expect(get.all).toBe("42");
  });

  if (variant.seal !== "shamir") {
    it("a restart of every Vault container needs no key: the nodes unseal themselves", async () => {
      // The stored keys are recovery keys of a transit-sealed cluster.
      const stored = JSON.parse(
        await readFile(
          path.join(process.env.XDG_STATE_HOME as string, "vault-ha", project, "init.json"),
          "utf8",
        ),
      ) as { sealType?: string; keys: string[] };
      expect(stored.sealType).toBe(variant.seal);
      expect(stored.keys).toHaveLength(5);
      const containers = await docker.listContainers({
        filters: { label: [`com.docker.compose.project=${project}`, "dev.vault-ha.role=vault"] },
      });
      expect(containers).toHaveLength(3);
      await Promise.all(containers.map((container) => docker.getContainer(container.Id).restart()));
      // No unseal call anywhere: only reads until one node is active again.
      await oneActive(120_000);
      const variables = await envOf(project);
      // A balancer learns of the new active node at its next check (500 ms),
      // so the read through it may need a round; a node read answers at once.
      const answer = await eventually("the secret through VAULT_ADDR", 30_000, async () => {
        const get = await hostVault(variables, "kv", "get", "-field=answer", "kv/prod");
        if (get.exitCode !== 0) throw new Error(get.all);
        return get.all;
      });
      expect(answer).toBe("42");
      const unseal = await runCli(["unseal", "--project", project]);
      expect(unseal.exitCode).toBe(0);
      expect(unseal.stdout).toContain(`auto-unseals (seal.type ${variant.seal})`);
    });

    it("changing the seal type of the initialised cluster is refused, and nothing changes", async () => {
      const result = await runCli([
        "up",
        "--project",
        project,
        "--set",
        "seal.type=shamir",
        "--nodes",
        "3",
      ]);
      expect(result.exitCode).toBe(5);
      expect(result.stderr).toContain(`was initialised with seal type ${variant.seal}`);
      await oneActive();
    });
  }

  if (variant.name === "transit") {
    it("seal: a standby is refused with the reason; the active one seals, and up restarts it to auto-unseal", async () => {
      const before = await oneActive();
      const standby = up.nodes[(before.activeIndex + 1) % 3]?.name as string;
      const refused = await runCli(["seal", standby, "--project", project]);
      expect(refused.exitCode).toBe(5);
      expect(refused.stderr).toContain("cannot stay sealed");
      const active = up.nodes[before.activeIndex]?.name as string;
      const sealed = await runCli(["seal", active, "--project", project]);
      expect(sealed.exitCode, sealed.stderr).toBe(0);
      expect(
        (await vaultRequest((await urls())[before.activeIndex] as string, "GET", "sys/health"))
          .status,
      ).toBe(503);
      const heal = await runCli(["up", "--project", project, "--nodes", "3"]);
      expect(heal.exitCode, heal.stderr).toBe(0);
      expect(heal.stderr).toContain(`restarting ${active} to auto-unseal`);
      await oneActive(120_000);
    });
  }

  if (variant.seal === "transit") {
    it("after the transit Vault restarts (sealed), up unseals it, and a node restarted then unseals itself", async () => {
      const [transit] = await docker.listContainers({
        filters: {
          label: [
            `com.docker.compose.project=${project}`,
            "com.docker.compose.service=vault-transit",
          ],
        },
      });
      const container = docker.getContainer((transit as { Id: string }).Id);
      await container.restart();
      const published = async () =>
        ((await container.inspect()).NetworkSettings.Ports["8200/tcp"] ?? [])[0]?.HostPort;
      const transitUrl = `http://127.0.0.1:${await eventually("the transit port", 30_000, published)}`;
      const sealed = await eventually(
        "the transit Vault to answer",
        30_000,
        async () => (await vaultRequest(transitUrl, "GET", "sys/health")).status,
      );
      expect(sealed).toBe(503);
      const heal = await runCli(["up", "--project", project, "--nodes", "3"]);
      expect(heal.exitCode, heal.stderr).toBe(0);
      expect((await vaultRequest(transitUrl, "GET", "sys/health")).status).toBe(200);
      const [node] = await docker.listContainers({
        filters: {
          label: [`com.docker.compose.project=${project}`, "com.docker.compose.service=vault-2"],
        },
      });
      await docker.getContainer((node as { Id: string }).Id).restart();
      await oneActive(120_000);
    });
  }

  if (variant.lb) {
    it("one address follows the active node through a step-down and a kill", async () => {
      const balancer = (await envOf(project)).VAULT_ADDR as string;
      const leaderThrough = async () => {
        const health = await vaultRequest(balancer, "GET", "sys/leader");
        return health.status === 200 ? (health.body.leader_address as string) : undefined;
      };
      const first = await eventually("the balancer to answer", 30_000, leaderThrough);
      const stepDown = await runCli(["step-down", "--project", project]);
      expect(stepDown.exitCode, stepDown.stderr).toBe(0);
      const second = await eventually(
        "the balancer to reach the new active node",
        30_000,
        async () => {
          const now = await leaderThrough();
          return now &&
            now !== first &&
            (await vaultRequest(balancer, "GET", "sys/health")).status === 200
            ? now
            : undefined;
        },
      );
      const active = second.replace(/^https?:\/\//, "").split(":")[0] as string;
      const [container] = await docker.listContainers({
        filters: {
          label: [`com.docker.compose.project=${project}`, `com.docker.compose.service=${active}`],
        },
      });
      await docker.getContainer((container as { Id: string }).Id).kill();
      await eventually(
        "the balancer to reach a node other than the killed one",
        60_000,
        async () => {
          const health = await vaultRequest(balancer, "GET", "sys/health");
          const leader = await leaderThrough();
          return health.status === 200 && leader && leader !== second ? leader : undefined;
        },
      );
      // Bring the killed node back for the next checks: up heals it.
      const heal = await runCli(["up", "--project", project, "--nodes", "3"]);
      expect(heal.exitCode, heal.stderr).toBe(0);
    });
  }

  if (variant.seal === "awskms") {
    it("an emulator that lost the key (restarted) is named, with the way out, before anything changes", async () => {
      const [kms] = await docker.listContainers({
        filters: {
          label: [`com.docker.compose.project=${project}`, "com.docker.compose.service=kms"],
        },
      });
      await docker.getContainer((kms as { Id: string }).Id).restart();
      const result = await runCli(["up", "--project", project, "--nodes", "3"]);
      expect(result.exitCode).toBe(5);
      expect(result.stderr).toMatch(
        /the KMS emulator no longer has key .* can never unseal again; run vault-ha reset/,
      );
      // The running nodes keep their unsealed state: only a restart would need the key.
      await oneActive();
    });
  }
});

describe("the harness with tls and a balancer", () => {
  it("exposes the CA and the balancer's address; a Node client verifies the certificate", async () => {
    await withTempDir(async (workDir) => {
      const cluster = await startCluster({
        ephemeral: true,
        nodes: 2,
        tls: true,
        loadBalancer: { enabled: true },
        workDir,
      });
      try {
        expect(cluster.caCert).toContain("BEGIN CERTIFICATE");
        expect(cluster.caCertPath).toMatch(/ca\.pem$/);
        expect(cluster.loadBalancerUrl).toMatch(/^https:\/\//);
        trustCa(cluster.caCert as string);
        const health = await eventually("sys/health through the balancer", 30_000, async () => {
          const answer = await vaultRequest(cluster.loadBalancerUrl as string, "GET", "sys/health");
          return answer.status === 200 ? answer : undefined;
        });
        expect(health.body.sealed).toBe(false);
        expect(cluster.activeUrl).toMatch(/^https:\/\//);
      } finally {
        await cluster.stop();
      }
      expect(await projectResources(cluster.project)).toEqual({
        containers: [],
        networks: [],
        volumes: [],
      });
    });
  });
});
