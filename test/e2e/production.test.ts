import { readFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster } from "../../src/index.js";
import { runCli, withTempDir } from "../support/cli.js";
import { docker, projectResources } from "../support/docker.js";
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

const variants = [
  { name: "tls", flags: ["--set", "tls=true"], tls: true, transit: false, lb: false },
  { name: "transit", flags: ["--set", "seal.type=transit"], tls: false, transit: true, lb: false },
  {
    name: "lb",
    flags: ["--set", "loadBalancer.enabled=true"],
    tls: false,
    transit: false,
    lb: true,
  },
  {
    name: "all",
    flags: [
      "--set",
      "tls=true",
      "--set",
      "seal.type=transit",
      "--set",
      "loadBalancer.enabled=true",
    ],
    tls: true,
    transit: true,
    lb: true,
  },
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
  const urls = () => up.nodes.map((node) => node.url);

  beforeAll(async () => {
    project = testProject(`prod-${variant.name}`);
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
    for (const url of urls())
      expect(url.startsWith(variant.tls ? "https://" : "http://")).toBe(true);
    await waitOneActive(urls());
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

  if (variant.transit) {
    it("a restart of every Vault container needs no key: the nodes unseal themselves", async () => {
      // The stored keys are recovery keys of a transit-sealed cluster.
      const stored = JSON.parse(
        await readFile(
          path.join(process.env.XDG_STATE_HOME as string, "vault-ha", project, "init.json"),
          "utf8",
        ),
      ) as { sealType?: string; keys: string[] };
      expect(stored.sealType).toBe("transit");
      expect(stored.keys).toHaveLength(5);
      const containers = await docker.listContainers({
        filters: { label: [`com.docker.compose.project=${project}`, "dev.vault-ha.role=vault"] },
      });
      expect(containers).toHaveLength(3);
      await Promise.all(containers.map((container) => docker.getContainer(container.Id).restart()));
      // No unseal call anywhere: only reads until one node is active again.
      await waitOneActive(urls(), 120_000);
      const variables = await envOf(project);
      const get = await hostVault(variables, "kv", "get", "-field=answer", "kv/prod");
      expect(get.all).toBe("42");
      const unseal = await runCli(["unseal", "--project", project]);
      expect(unseal.exitCode).toBe(0);
      expect(unseal.stdout).toContain("auto-unseals (seal.type transit)");
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
      expect(result.stderr).toContain("was initialised with seal type transit");
      await waitOneActive(urls());
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
          const health = await vaultRequest(balancer, "GET", "sys/health").catch(() => undefined);
          const leader = await leaderThrough().catch(() => undefined);
          return health?.status === 200 && leader && leader !== second ? leader : undefined;
        },
      );
      // Bring the killed node back for the next checks: up heals it.
      const heal = await runCli(["up", "--project", project, "--nodes", "3"]);
      expect(heal.exitCode, heal.stderr).toBe(0);
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
