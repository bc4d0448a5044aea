import { cp, mkdir, mkdtemp, readFile, rm, symlink } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { startCluster } from "../../src/index.js";
import { PACKAGE_ROOT } from "../../src/package-paths.js";
import { runCli } from "../support/cli.js";
import { type CliCluster, cliCluster } from "../support/cli-cluster.js";
import {
  docker,
  projectResources,
  removed,
  removeProject,
  serviceContainer,
} from "../support/docker.js";
import { testProject } from "../support/names.js";
import { expectOneActive, haLockItem, nodeTruth, waitOneActive } from "../support/oracle.js";
import { deadPid, startOwner } from "../support/owner-process.js";
import { eventually, vaultRequest } from "../support/vault-http.js";

const empty = { containers: [], networks: [], volumes: [] };

describe("the programmatic API: startCluster", () => {
  it("runs two ephemeral clusters side by side from one process, each on its own ports, and stops both cleanly", async () => {
    const [first, second] = await Promise.all([
      startCluster({ ephemeral: true, nodes: 2 }),
      startCluster({ ephemeral: true, nodes: 1 }),
    ]);
    try {
      expect(first.project).not.toBe(second.project);
      expect(first.project).toMatch(/^vha-[0-9a-f]{8}$/);
      expect(first.created && second.created).toBe(true);
      const urls = [...first.nodes, ...second.nodes].map((node) => node.url);
      expect(new Set(urls).size).toBe(3);
      for (const cluster of [first, second]) {
        // The handle's view against Vault's own answers, node by node.
        const active = await expectOneActive(
          cluster.nodes.map((node) => node.url),
          { endpoint: cluster.dynamodbEndpoint },
        );
        expect(cluster.activeUrl).toBe(cluster.nodes[active]?.url);
        expect(cluster.nodes[active]?.mode).toBe("active");
        const self = await vaultRequest(cluster.activeUrl, "GET", "auth/token/lookup-self", {
          token: cluster.rootToken,
        });
        expect(self.status).toBe(200);
        expect(cluster.unsealKeys).toHaveLength(5);
        // In memory: no volume at all.
        expect((await projectResources(cluster.project)).volumes).toEqual([]);
        // Every container carries the session labels the reaper goes by.
        const [container] = await docker.listContainers({
          filters: { label: [`com.docker.compose.project=${cluster.project}`] },
        });
        expect(container?.Labels).toMatchObject({
          "dev.vault-ha.ephemeral": "true",
          "dev.vault-ha.owner-pid": String(process.pid),
          "dev.vault-ha.owner-host": hostname(),
        });
      }
      // Two distinct DynamoDB Locals: each lock lives in its own table.
      const locks = await Promise.all(
        [first, second].map((cluster) => haLockItem(cluster.dynamodbEndpoint)),
      );
      expect(locks[0]?.identity).not.toBe(locks[1]?.identity);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
    expect(await projectResources(first.project)).toEqual(empty);
    expect(await projectResources(second.project)).toEqual(empty);
  });

  it("kill, waitForActive, stepDown and unseal drive a real failover; await using stops it", async () => {
    let project = "";
    {
      await using cluster = await startCluster({ ephemeral: true, nodes: 3 });
      project = cluster.project;
      const urls = cluster.nodes.map((node) => node.url);
      const before = await expectOneActive(urls);
      const moved = await cluster.stepDown();
      expect(moved.from).toBe(`vault-${before + 1}`);
      const afterStepDown = await waitOneActive(urls, 30_000);
      expect(moved.to).toBe(`vault-${afterStepDown.activeIndex + 1}`);
      expect(cluster.activeUrl).toBe(urls[afterStepDown.activeIndex]);

      await cluster.kill(moved.to);
      const killedUrl = urls[afterStepDown.activeIndex] as string;
      // Resolves only when another node holds the lock (after its TTL): no catch.
      const after = await cluster.waitForActive({ timeoutMs: 90_000 });
      expect(after.active).toBeDefined();
      expect(after.active).not.toBe(moved.to);
      const truth = await waitOneActive(urls, 10_000, { tolerate: [killedUrl] });
      expect(`vault-${truth.activeIndex + 1}`).toBe(after.active);
      expect((await nodeTruth(killedUrl)).health).toBe("down");

      // everyNode: the killed node never comes back by itself, so this must time out.
      await expect(
        cluster.waitForActive({ timeoutMs: 1_500, everyNode: true }),
      ).rejects.toMatchObject({
        exitCode: 4,
      });

      // A standby restarted comes back sealed; unseal() names exactly it.
      const remaining = [0, 1, 2].find(
        (index) => index !== afterStepDown.activeIndex && index !== truth.activeIndex,
      ) as number;
      const standby = `vault-${remaining + 1}`;
      const container = await serviceContainer(project, standby);
      await container.restart();
      // Port 0: Docker may publish the restarted container on a new host port.
      const published = (await container.inspect()).NetworkSettings.Ports["8200/tcp"]?.[0];
      const standbyUrl = `http://127.0.0.1:${published?.HostPort}`;
      await eventually("the restarted standby sealed", 30_000, async () =>
        (await nodeTruth(standbyUrl)).health === 503 ? true : undefined,
      );
      expect(await cluster.unseal()).toEqual([standby]);
      expect((await nodeTruth(standbyUrl)).health).toBe(429);
      // The handle follows the new port too.
      expect((await cluster.status()).nodes.find((node) => node.name === standby)?.url).toBe(
        standbyUrl,
      );
    }
    expect(await projectResources(project)).toEqual(empty);
  });

  it("rejects bad options with the same one-line errors as the configuration file, creating nothing", async () => {
    await expect(startCluster({ ephemeral: true, nodes: 0 })).rejects.toThrow(
      "options: nodes: 0 is not allowed; use a whole number from 1 to 9",
    );
  });
});

describe("a handle removes only what it created", () => {
  let developer: CliCluster | undefined;
  afterAll(async () => {
    await developer?.cleanup();
  });

  it("attached to a developer's running cluster, stop() leaves it running with its data, volume and keys", async () => {
    developer = await cliCluster("developer");
    const up = await developer.run(["up"]);
    expect(up.exitCode, up.stderr).toBe(0);
    const urls = developer.urls(3);
    const keysFile = path.join(developer.stateDir, developer.project, "init.json");
    const keys = JSON.parse(await readFile(keysFile, "utf8")) as { rootToken: string };
    const active = await expectOneActive(urls);
    await vaultRequest(urls[active] as string, "POST", "sys/mounts/secret", {
      token: keys.rootToken,
      body: { type: "kv", options: { version: "2" } },
    });
    await vaultRequest(urls[active] as string, "POST", "secret/data/mine", {
      token: keys.rootToken,
      body: { data: { value: "precious" } },
    });
    const before = await projectResources(developer.project);

    // The test suite of some other project points startCluster at it.
    const saved = process.env.VAULT_HA_STATE_DIR;
    process.env.VAULT_HA_STATE_DIR = developer.stateDir;
    try {
      const handle = await startCluster({
        project: developer.project,
        vault: { hostPort: developer.vaultPort },
        dynamodb: { hostPort: developer.dynamodbPort },
      });
      expect(handle.created).toBe(false);
      await handle.stop();
      await handle[Symbol.asyncDispose]();
    } finally {
      if (saved === undefined) delete process.env.VAULT_HA_STATE_DIR;
      else process.env.VAULT_HA_STATE_DIR = saved;
    }

    expect((await projectResources(developer.project)).containers.sort()).toEqual(
      before.containers.sort(),
    );
    expect((await projectResources(developer.project)).volumes).toEqual(before.volumes);
    await expectOneActive(urls);
    const read = await vaultRequest(
      urls[await expectOneActive(urls)] as string,
      "GET",
      "secret/data/mine",
      {
        token: keys.rootToken,
      },
    );
    expect((read.body.data as { data: { value: string } }).data.value).toBe("precious");
    expect(JSON.parse(await readFile(keysFile, "utf8")).rootToken).toBe(keys.rootToken);
  });

  it("two runs on one engine: another run's whole CI flow (up, prune, reset) leaves this run's cluster as it was", async () => {
    await using mine = await startCluster({ ephemeral: true, nodes: 1 });
    const containerIds = async (project: string) =>
      (
        await docker.listContainers({
          all: true,
          filters: { label: [`com.docker.compose.project=${project}`] },
        })
      )
        .map((container) => container.Id)
        .sort();
    const before = await containerIds(mine.project);
    // The other run: its own HOME and state, as another CI job on a shared
    // engine has; the CLI flow the README documents for CI.
    const other = await mkdtemp(path.join(tmpdir(), "vault-ha-other-run-"));
    try {
      const env = {
        HOME: other,
        XDG_STATE_HOME: path.join(other, "state"),
        XDG_CACHE_HOME: path.join(other, "cache"),
      };
      const up = await runCli(["up", "--ephemeral", "--nodes", "1", "--json"], { cwd: other, env });
      expect(up.exitCode, up.stderr).toBe(0);
      const { project } = JSON.parse(up.stdout) as { project: string };
      expect(project).not.toBe(mine.project);
      const pruned = await runCli(["prune", "--yes"], { cwd: other, env });
      expect(pruned.exitCode, pruned.stderr).toBe(0);
      const reset = await runCli(["reset", "--yes", "--project", project], { cwd: other, env });
      expect(reset.exitCode, reset.stderr).toBe(0);
      expect(await projectResources(project)).toEqual(empty);
    } finally {
      await rm(other, { recursive: true, force: true });
    }
    // Ours: the same containers, and still one active node by Vault's own answer.
    expect(await containerIds(mine.project)).toEqual(before);
    await expectOneActive(
      mine.nodes.map((node) => node.url),
      { endpoint: mine.dynamodbEndpoint },
    );
  });

  it("before starting, prunes ephemeral clusters of dead owners only: a live owner's and unlabelled resources survive", async () => {
    const dead = testProject("dead-owner");
    const live = testProject("live-owner");
    const labels = (project: string, pid: number) => ({
      "dev.vault-ha.project": project,
      "dev.vault-ha.ephemeral": "true",
      "dev.vault-ha.session": `${project}-session`,
      "dev.vault-ha.owner-pid": String(pid),
      "dev.vault-ha.owner-host": hostname(),
      "dev.vault-ha.started": new Date().toISOString(),
    });
    await docker.createVolume({ Name: `${dead}-data`, Labels: labels(dead, deadPid()) });
    await docker.createVolume({ Name: `${live}-data`, Labels: labels(live, process.pid) });
    await docker.createVolume({ Name: `${dead}-foreign`, Labels: {} });
    try {
      await using cluster = await startCluster({ ephemeral: true, nodes: 1 });
      expect(cluster.created).toBe(true);
      await expect(docker.getVolume(`${dead}-data`).inspect()).rejects.toMatchObject({
        statusCode: 404,
      });
      expect((await docker.getVolume(`${live}-data`).inspect()).Name).toBe(`${live}-data`);
      expect((await docker.getVolume(`${dead}-foreign`).inspect()).Name).toBe(`${dead}-foreign`);
    } finally {
      for (const name of [`${dead}-data`, `${live}-data`, `${dead}-foreign`])
        await removed(docker.getVolume(name).remove());
    }
  });
});

describe("reuse: the dev loop", () => {
  // Fewer key shares than the default: a different configuration, so this
  // test never meets a reusable cluster another run of the default settings made.
  const options = { reuse: true, nodes: 1, init: { keyShares: 1, keyThreshold: 1 } } as const;
  let project: string | undefined;
  afterAll(async () => {
    // Only this test's cluster: `prune --reuse` would also take a developer's own.
    if (project) await removeProject(project);
  });

  it("stop() leaves a reusable cluster running; the next start gets it back as it was, and so does up --reuse", async () => {
    const first = await startCluster(options);
    project = first.project;
    expect(first).toMatchObject({ created: true, reused: false });
    expect(project).toMatch(/^vha-reuse-[0-9a-f]{12}$/);
    const url = first.nodes[0]?.url as string;
    await first.stop();
    // Still running, and still the one active node, by Vault's own answer.
    await expectOneActive([url], { endpoint: first.dynamodbEndpoint });

    const second = await startCluster(options);
    expect(second).toMatchObject({
      created: false,
      reused: true,
      project,
      rootToken: first.rootToken,
      activeUrl: url,
    });
    const self = await vaultRequest(second.activeUrl, "GET", "auth/token/lookup-self", {
      token: second.rootToken,
    });
    expect(self.status).toBe(200);
    await second.stop();

    // The command line with the same settings finds the same cluster.
    const up = await runCli([
      "up",
      "--reuse",
      "--nodes",
      "1",
      "--key-shares",
      "1",
      "--key-threshold",
      "1",
      "--json",
    ]);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout)).toMatchObject({ project, changed: false, activeUrl: url });
  });

  it("prune keeps it whatever its owner, lists it as removable with --reuse", async () => {
    expect(project).toBeDefined();
    const pruned = await runCli(["prune", "--yes", "--json"]);
    expect(pruned.exitCode, pruned.stderr).toBe(0);
    const kept = JSON.parse(pruned.stdout).clusters.find(
      (cluster: { project: string }) => cluster.project === project,
    );
    expect(kept).toMatchObject({ reusable: true, prunable: false, removed: false });
    expect((await projectResources(project as string)).containers.length).toBeGreaterThan(0);
    const listed = await runCli(["prune", "--reuse", "--json"]);
    const candidate = JSON.parse(listed.stdout).clusters.find(
      (cluster: { project: string }) => cluster.project === project,
    );
    expect(candidate).toMatchObject({ reusable: true, prunable: true, removed: false });
  });

  it("never takes a project of the user's own", async () => {
    await expect(startCluster({ ...options, project: "mine" })).rejects.toThrow(
      "startCluster: `reuse` names the project after the settings; leave `project` out (or drop `reuse` to attach to your own project)",
    );
    expect((await projectResources("mine")).containers).toEqual([]);
  });
});

describe("harness cleanup when the owning process ends", () => {
  it.each([
    ["SIGTERM", "a signal"],
    ["SIGINT", "Ctrl-C in a watch-mode test runner"],
  ] as const)("on %s (%s) the owner removes its cluster before it dies", async (signal, _why) => {
    const owner = await startOwner("wait");
    expect((await projectResources(owner.project)).containers.length).toBeGreaterThan(0);
    owner.child.kill(signal);
    expect(await owner.exited).toBe(signal);
    expect(await projectResources(owner.project)).toEqual(empty);
  });

  it("on a plain process.exit the exit handler removes it synchronously", async () => {
    const owner = await startOwner("exit");
    expect(await owner.exited).toBe(0);
    expect(await projectResources(owner.project)).toEqual(empty);
  });

  it("on SIGKILL (nothing in the owner runs) the watchdog removes everything within 30 s", async () => {
    const owner = await startOwner("wait");
    expect((await projectResources(owner.project)).containers.length).toBeGreaterThan(0);
    owner.child.kill("SIGKILL");
    expect(await owner.exited).toBe("SIGKILL");
    const started = Date.now();
    await eventually(
      "the watchdog to remove the cluster",
      30_000,
      async () => {
        const left = await projectResources(owner.project);
        return left.containers.length + left.networks.length + left.volumes.length === 0;
      },
      500,
    );
    console.log(
      `watchdog removed ${owner.project} ${((Date.now() - started) / 1000).toFixed(1)} s after SIGKILL`,
    );
  });
});

describe("the vitest example", () => {
  it("examples/vitest runs against a real cluster", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "vault-ha-example-"));
    try {
      await cp(path.join(PACKAGE_ROOT, "examples", "vitest"), dir, { recursive: true });
      // As if installed: node_modules/vault-ha is this package, vitest is ours.
      await mkdir(path.join(dir, "node_modules"));
      await symlink(PACKAGE_ROOT, path.join(dir, "node_modules", "vault-ha"));
      await symlink(
        path.join(PACKAGE_ROOT, "node_modules", "vitest"),
        path.join(dir, "node_modules", "vitest"),
      );
      const run = await execa(
        process.execPath,
        [
          path.join(PACKAGE_ROOT, "node_modules", "vitest", "vitest.mjs"),
          "run",
          "--config",
          "vitest.config.ts",
        ],
        { cwd: dir, reject: false, all: true, env: { CI: "true", NO_COLOR: "1" } },
      );
      expect(run.exitCode, run.all).toBe(0);
      expect(run.all).toMatch(/Tests\s+3 passed/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
