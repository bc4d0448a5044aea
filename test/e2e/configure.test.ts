import { mkdtemp, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster } from "../../src/index.js";
import { runCli, withTempDir } from "../support/cli.js";
import { projectResources, serviceContainer } from "../support/docker.js";
import { testProject } from "../support/names.js";
import { waitOneActive } from "../support/oracle.js";
import { eventually, vaultRequest } from "../support/vault-http.js";

// A bank-vaults external configuration, as its own docs write one: applied by
// `up`, re-applied with no change, planned by --dry-run, and given to
// startCluster with init commands. What Vault holds is read with raw HTTP.

const POLICY = 'path "secret/data/app/*" { capabilities = ["read", "list"] }';
const bankVaultsFile = (policy = POLICY) => `
policies:
  - name: app-read
    rules: ${JSON.stringify(policy)}
auth:
  - type: userpass
    users:
      - username: dev
        password: '\${ env "DEV_PASSWORD" }'
        token_policies: app-read
  - type: approle
    roles:
      - name: ci
        token_policies: app-read
        token_ttl: 20m
secrets:
  - path: secret
    type: kv
    options:
      version: 2
  - type: transit
    configuration:
      keys:
        - name: app
          type: aes256-gcm96
audit:
  - type: file
groups:
  - name: developers
    type: external
    policies: [app-read]
    metadata:
      team: platform
group-aliases:
  - name: developers-alias
    mountpath: userpass
    group: developers
startupSecrets:
  - type: kv
    path: secret/data/app/db
    data:
      data:
        user: app
        password: s3cr3t
`;

interface UpJson {
  nodes: { name: string; url: string }[];
  rootToken: string;
  configured: { action: string; what: string; path: string }[];
}

const env = { DEV_PASSWORD: "dev-pw-1" };

describe("configure through the CLI (2 nodes)", () => {
  const project = testProject("configure");
  let dir = "";
  let up: UpJson;
  const file = () => path.join(dir, "vault-config.yml");
  const urls = () => up.nodes.map((node) => node.url);
  const rootGet = async (url: string, apiPath: string) =>
    vaultRequest(url, "GET", apiPath, { token: up.rootToken });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(process.env.HOME as string, "configure-"));
    await writeFile(file(), bankVaultsFile());
    const result = await runCli(
      [
        "up",
        "--ephemeral",
        "--project",
        project,
        "--nodes",
        "2",
        "--configure",
        file(),
        "--json",
        "--show-secrets",
      ],
      { timeout: 600_000, env },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    up = JSON.parse(result.stdout) as UpJson;
  });

  afterAll(async () => {
    const reset = await runCli(["reset", "--yes", "--project", project]);
    expect(reset.exitCode, reset.stderr).toBe(0);
    expect(await projectResources(project)).toEqual({ containers: [], networks: [], volumes: [] });
  });

  it("up applies every section, and Vault holds each", async () => {
    expect(up.configured.map((change) => change.action)).not.toContain("update");
    expect(up.configured.length).toBeGreaterThanOrEqual(9);
    const { activeIndex } = await waitOneActive(urls());
    const active = urls()[activeIndex] as string;
    const policy = await rootGet(active, "sys/policies/acl/app-read");
    expect((policy.body.data as { policy: string }).policy).toBe(POLICY);
    const mounts = (await rootGet(active, "sys/mounts")).body.data as Record<
      string,
      { type: string; options: { version?: string } | null }
    >;
    expect(mounts["secret/"]?.type).toBe("kv");
    expect(mounts["secret/"]?.options?.version).toBe("2");
    expect(mounts["transit/"]?.type).toBe("transit");
    const key = await rootGet(active, "transit/keys/app");
    expect((key.body.data as { type: string }).type).toBe("aes256-gcm96");
    const role = await rootGet(active, "auth/approle/role/ci");
    expect((role.body.data as { token_ttl: number }).token_ttl).toBe(1200);
    const audit = (await rootGet(active, "sys/audit")).body.data as Record<string, unknown>;
    expect(Object.keys(audit)).toContain("file/");
    const group = (await rootGet(active, "identity/group/name/developers")).body.data as {
      policies: string[];
      metadata: Record<string, string>;
      alias: { name: string; mount_accessor: string };
    };
    expect(group.policies).toEqual(["app-read"]);
    expect(group.metadata).toEqual({ team: "platform" });
    const auth = (await rootGet(active, "sys/auth")).body.data as Record<
      string,
      { accessor: string }
    >;
    // The alias is tied to the userpass mount by its accessor, resolved from `mountpath`.
    expect(group.alias.name).toBe("developers-alias");
    expect(group.alias.mount_accessor).toBe(auth["userpass/"]?.accessor);
    // The password came from the environment through ${ env "DEV_PASSWORD" }.
    const login = await vaultRequest(active, "POST", "auth/userpass/login/dev", {
      body: { password: env.DEV_PASSWORD },
    });
    expect(login.status).toBe(200);
    const devToken = (login.body.auth as { client_token: string }).client_token;
    const secret = await vaultRequest(active, "GET", "secret/data/app/db", { token: devToken });
    expect(secret.status).toBe(200);
    expect((secret.body.data as { data: unknown }).data).toEqual({
      user: "app",
      password: "s3cr3t",
    });
    // The policy limits the user: no write.
    const write = await vaultRequest(active, "POST", "secret/data/app/db", {
      token: devToken,
      body: { data: { user: "x" } },
    });
    expect(write.status).toBe(403);
  });

  it("the audit device writes to /vault/logs on the active node", async () => {
    const { activeIndex } = await waitOneActive(urls());
    const node = up.nodes[activeIndex]?.name as string;
    const container = await serviceContainer(project, node);
    await rootGet(urls()[activeIndex] as string, "sys/health");
    const log = await eventually("an audit line", 10_000, async () => {
      const result = await execa("docker", ["exec", container.id, "cat", "/vault/logs/file.log"], {
        reject: false,
      });
      return result.exitCode === 0 && result.stdout.includes('"type":"request"')
        ? result.stdout
        : undefined;
    });
    // Audit entries are HMAC'd: the root token never appears in clear.
    expect(log).not.toContain(up.rootToken);
  });

  it("a second apply writes nothing: the startup secret keeps its version", async () => {
    const { activeIndex } = await waitOneActive(urls());
    const active = urls()[activeIndex] as string;
    const before = await rootGet(active, "secret/metadata/app/db");
    const version = (before.body.data as { current_version: number }).current_version;
    const again = await runCli(
      ["configure", "--project", project, "--configure", file(), "--json"],
      { env },
    );
    expect(again.exitCode, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).changes).toEqual([]);
    const after = await rootGet(active, "secret/metadata/app/db");
    expect((after.body.data as { current_version: number }).current_version).toBe(version);
    const plain = await runCli(["configure", "--project", project, "--configure", file()], { env });
    expect(plain.stdout).toContain("nothing to change");
  });

  it("--dry-run plans a changed policy and a changed password, and Vault keeps both", async () => {
    const changed = path.join(dir, "changed.yml");
    await writeFile(changed, bankVaultsFile('path "secret/data/*" { capabilities = ["read"] }'));
    const dry = await runCli(
      ["configure", "--project", project, "--configure", changed, "--dry-run", "--json"],
      { env: { DEV_PASSWORD: "dev-pw-2" } },
    );
    expect(dry.exitCode, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout) as { dryRun: boolean; changes: { path: string }[] };
    expect(plan.dryRun).toBe(true);
    expect(plan.changes.map((change) => change.path).sort()).toEqual([
      "auth/userpass/users/dev",
      "sys/policies/acl/app-read",
    ]);
    const { activeIndex } = await waitOneActive(urls());
    const active = urls()[activeIndex] as string;
    const policy = await rootGet(active, "sys/policies/acl/app-read");
    expect((policy.body.data as { policy: string }).policy).toBe(POLICY);
    const oldLogin = await vaultRequest(active, "POST", "auth/userpass/login/dev", {
      body: { password: env.DEV_PASSWORD },
    });
    expect(oldLogin.status).toBe(200);
  });

  it("a mount path that holds another type is exit 5, and nothing is written", async () => {
    const clash = path.join(dir, "clash.yml");
    await writeFile(
      clash,
      'policies:\n  - name: before-clash\n    rules: \'path "x" { capabilities = ["read"] }\'\nsecrets:\n  - path: secret\n    type: transit\n',
    );
    const result = await runCli(["configure", "--project", project, "--configure", clash]);
    expect(result.exitCode).toBe(5);
    expect(result.stderr).toContain("secrets path secret/ is a kv mount in Vault");
    const { activeIndex } = await waitOneActive(urls());
    const active = urls()[activeIndex] as string;
    const mounts = (await rootGet(active, "sys/mounts")).body.data as Record<
      string,
      { type: string }
    >;
    expect(mounts["secret/"]?.type).toBe("kv");
    // The conflict was found before the first write: the policy ahead of it is not there.
    expect((await rootGet(active, "sys/policies/acl/before-clash")).status).toBe(404);
  });

  it("purgeUnmanagedConfig removes what the file does not list, keeps built-ins and excluded sections", async () => {
    const { activeIndex } = await waitOneActive(urls());
    const active = urls()[activeIndex] as string;
    const stray = await vaultRequest(active, "POST", "sys/policies/acl/stray", {
      token: up.rootToken,
      body: { policy: 'path "x" { capabilities = ["read"] }' },
    });
    expect(stray.status).toBe(204);
    const purging = path.join(dir, "purge.yml");
    await writeFile(
      purging,
      `${bankVaultsFile()}\npurgeUnmanagedConfig:\n  enabled: true\n  exclude:\n    secrets: true\n`,
    );
    const result = await runCli(
      ["configure", "--project", project, "--configure", purging, "--json"],
      { env },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const changes = (JSON.parse(result.stdout) as { changes: { action: string; what: string }[] })
      .changes;
    expect(
      changes.filter((change) => change.action === "delete").map((change) => change.what),
    ).toEqual(["policy stray"]);
    const policies = await vaultRequest(active, "GET", "sys/policies/acl?list=true", {
      token: up.rootToken,
    });
    expect((policies.body.data as { keys: string[] }).keys.sort()).toEqual([
      "app-read",
      "default",
      "root",
    ]);
    const mounts = (await rootGet(active, "sys/mounts")).body.data as Record<string, unknown>;
    // secrets excluded: nothing there was touched, built-in mounts included.
    for (const mount of ["secret/", "transit/", "sys/", "cubbyhole/", "identity/"])
      expect(Object.keys(mounts)).toContain(mount);
    const auth = (await rootGet(active, "sys/auth")).body.data as Record<string, unknown>;
    expect(Object.keys(auth).sort()).toEqual(["approle/", "token/", "userpass/"]);
  });

  it("a file with an unknown key is refused before anything starts", async () => {
    const other = testProject("configure-bad");
    const bad = path.join(dir, "bad.yml");
    await writeFile(bad, "policies:\n  - name: p\n    rulez: x\n");
    const result = await runCli(
      ["up", "--ephemeral", "--project", other, "--configure", bad, "--nodes", "1"],
      { env },
    );
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("unknown key rulez");
    expect(result.stderr.trim().split("\n")[0]).toMatch(/bad\.yml: policies\.0/);
    expect(await projectResources(other)).toEqual({ containers: [], networks: [], volumes: [] });
  });
});

describe("startCluster({ configure, initCommands })", () => {
  it("configures, runs init commands, and hands out AppRole ids and policy clients", async () => {
    await withTempDir(async (workDir) => {
      process.env.DEV_PASSWORD = "harness-pw";
      const project = testProject("configure-api");
      const cluster = await startCluster({
        ephemeral: true,
        project,
        nodes: 1,
        workDir,
        configure: {
          policies: [{ name: "app-read", rules: POLICY }],
          auth: [
            { type: "approle", roles: [{ name: "ci", token_policies: "app-read" }] },
            {
              type: "userpass",
              users: [{ username: "dev", password: '${ env "DEV_PASSWORD" }' }],
            },
          ],
          secrets: [{ path: "secret", type: "kv", options: { version: 2 } }],
          startupSecrets: [
            { type: "kv", path: "secret/data/app/db", data: { data: { user: "app" } } },
          ],
        },
        initCommands: ["secrets enable -path=tr transit", "write -f tr/keys/k"],
      });
      try {
        expect(cluster.configured.length).toBeGreaterThanOrEqual(6);
        const url = cluster.activeUrl;
        const { roleId, secretId } = await cluster.approle("ci");
        const login = await vaultRequest(url, "POST", "auth/approle/login", {
          body: { role_id: roleId, secret_id: secretId },
        });
        expect(login.status).toBe(200);
        const token = (login.body.auth as { client_token: string }).client_token;
        const read = await vaultRequest(url, "GET", "secret/data/app/db", { token });
        expect((read.body.data as { data: unknown }).data).toEqual({ user: "app" });
        // The init commands ran in the node: the transit mount and its key exist.
        const key = await vaultRequest(url, "GET", "tr/keys/k", { token: cluster.rootToken });
        expect(key.status).toBe(200);
        const limited = await cluster.client({ policies: ["app-read"] });
        const answer = (await limited.read("secret/data/app/db")) as { data: { data: unknown } };
        expect(answer.data.data).toEqual({ user: "app" });
        await expect(limited.read("sys/policies/acl/app-read")).rejects.toThrow(
          /permission denied/,
        );
        const root = await cluster.client();
        expect(
          ((await root.read("sys/policies/acl/app-read")) as { data: unknown }).data,
        ).toBeTruthy();
      } finally {
        await cluster.stop();
        delete process.env.DEV_PASSWORD;
      }
      expect(await projectResources(project)).toEqual({
        containers: [],
        networks: [],
        volumes: [],
      });
    });
  });

  it("a failing init command fails the start with its output, and leaves nothing behind", async () => {
    await withTempDir(async (workDir) => {
      const project = testProject("configure-init-fails");
      await expect(
        startCluster({
          ephemeral: true,
          project,
          nodes: 1,
          workDir,
          initCommands: ["secrets enable no-such-engine"],
        }),
      ).rejects.toThrow(/init command `vault secrets enable no-such-engine` failed in vault-1/);
      expect(await projectResources(project)).toEqual({
        containers: [],
        networks: [],
        volumes: [],
      });
    });
  });
});
