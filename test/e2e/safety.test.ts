import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { hostname, tmpdir, userInfo } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_VAULT_IMAGE } from "../../src/core/images.js";
import { builtImageTag } from "../../src/core/render-compose.js";
import { startCluster } from "../../src/index.js";
import { runCli } from "../support/cli.js";
import { type CliCluster, cliCluster } from "../support/cli-cluster.js";
import { docker, projectResources, removed } from "../support/docker.js";
import { freePorts, testProject } from "../support/names.js";
import { expectOneActive } from "../support/oracle.js";
import { deadPid } from "../support/owner-process.js";
import { eventually } from "../support/vault-http.js";

/** Every container, volume and network on the engine, by name: the "nothing changed" oracle. */
async function engineInventory() {
  const [containers, volumes, networks] = await Promise.all([
    docker.listContainers({ all: true }),
    docker.listVolumes(),
    docker.listNetworks(),
  ]);
  return {
    containers: containers.map((container) => container.Names[0] ?? container.Id).sort(),
    volumes: (volumes.Volumes ?? []).map((volume) => volume.Name).sort(),
    networks: networks.map((network) => network.Name).sort(),
  };
}

describe("run as its users run it", () => {
  it("the suite itself runs as a non-root user in the docker group", () => {
    if (process.env.CI === "true") {
      expect(process.getuid?.()).not.toBe(0);
    }
    // Whoever runs it, the engine answers without root (the docker group).
    expect(userInfo().username).toBeTruthy();
  });

  it("up --ephemeral with 3 nodes as a non-root user: Docker picks every host port, nothing is probed", async () => {
    const stateDir = await mkdtemp(path.join(tmpdir(), "vault-ha-eph-"));
    const cwd = await mkdtemp(path.join(tmpdir(), "vault-ha-eph-cwd-"));
    let project = "";
    try {
      const up = await runCli(["up", "--ephemeral", "--nodes", "3", "--json"], {
        cwd,
        env: { VAULT_HA_STATE_DIR: stateDir },
        timeout: 600_000,
      });
      expect(up.exitCode, up.stderr).toBe(0);
      const summary = JSON.parse(up.stdout);
      project = summary.project;
      const urls = summary.nodes.map((node: { url: string }) => node.url);
      expect(urls).toHaveLength(3);
      for (const url of urls) expect(Number(new URL(url).port)).toBeGreaterThan(1023);
      await expectOneActive(urls, { endpoint: summary.dynamodbEndpoint });
      // Its owner is the shell that ran it: recorded for `prune`.
      const [container] = await docker.listContainers({
        filters: { label: [`com.docker.compose.project=${project}`] },
      });
      expect(container?.Labels["dev.vault-ha.owner-pid"]).toBe(String(process.pid));
      // The working folder is untouched: the Compose file lives beside the keys.
      expect(await readdir(cwd)).toEqual([]);
    } finally {
      if (project) {
        const reset = await runCli(["reset", "--yes", "--project", project], {
          cwd,
          env: { VAULT_HA_STATE_DIR: stateDir },
        });
        expect(reset.exitCode, reset.stderr).toBe(0);
        expect(await projectResources(project)).toEqual({
          containers: [],
          networks: [],
          volumes: [],
        });
      }
      await rm(stateDir, { recursive: true, force: true });
      await rm(cwd, { recursive: true, force: true });
    }
  });

  it("--vault-port 80 as a docker-group user works on a rootful engine (docker-proxy binds it as root)", async () => {
    const info = await docker.info();
    const rootless = (info.SecurityOptions ?? []).some((option: string) =>
      option.includes("name=rootless"),
    );
    expect(rootless, "this test is for a rootful engine; a rootless one refuses port 80").toBe(
      false,
    );
    const project = testProject("port80");
    const dynamodb = await freePorts(1);
    const stateDir = await mkdtemp(path.join(tmpdir(), "vault-ha-p80-"));
    const args = [
      "--project",
      project,
      "--nodes",
      "1",
      "--in-memory",
      "--vault-port",
      "80",
      "--dynamodb-port",
      String(dynamodb),
    ];
    try {
      const up = await runCli(["up", ...args], {
        cwd: stateDir,
        env: { VAULT_HA_STATE_DIR: stateDir },
        timeout: 600_000,
      });
      expect(up.exitCode, up.stderr).toBe(0);
      await expectOneActive(["http://127.0.0.1:80"]);
    } finally {
      const reset = await runCli(["reset", "--yes", ...args], {
        cwd: stateDir,
        env: { VAULT_HA_STATE_DIR: stateDir },
      });
      expect(reset.exitCode, reset.stderr).toBe(0);
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});

describe("vault-ha prune", () => {
  const dead = testProject("prune-dead");
  const live = testProject("prune-live");
  const remote = testProject("prune-remote");
  const labels = (project: string, pid: number, host = hostname(), started = new Date()) => ({
    "dev.vault-ha.project": project,
    "dev.vault-ha.ephemeral": "true",
    "dev.vault-ha.session": `${project}-session`,
    "dev.vault-ha.owner-pid": String(pid),
    "dev.vault-ha.owner-host": host,
    "dev.vault-ha.started": started.toISOString(),
  });
  const names = [`${dead}-data`, `${live}-data`, `${remote}-data`, `${dead}-unlabelled`];
  beforeAll(async () => {
    await docker.createVolume({ Name: `${dead}-data`, Labels: labels(dead, deadPid()) });
    await docker.createVolume({ Name: `${live}-data`, Labels: labels(live, process.pid) });
    await docker.createVolume({
      Name: `${remote}-data`,
      Labels: labels(remote, 1, "some-other-host", new Date(Date.now() - 3 * 3_600_000)),
    });
    await docker.createVolume({ Name: `${dead}-unlabelled`, Labels: {} });
  });
  afterAll(async () => {
    for (const name of names) await removed(docker.getVolume(name).remove());
  });
  const exists = async (name: string) =>
    docker
      .getVolume(name)
      .inspect()
      .then(
        () => true,
        () => false,
      );

  it("without --yes lists ephemeral clusters and removes nothing", async () => {
    const before = await engineInventory();
    const list = await runCli(["prune", "--json"]);
    expect(list.exitCode, list.stderr).toBe(0);
    const clusters = JSON.parse(list.stdout).clusters as {
      project: string;
      prunable: boolean;
      reason: string;
    }[];
    const mine = Object.fromEntries(clusters.map((cluster) => [cluster.project, cluster]));
    expect(mine[dead]).toMatchObject({ prunable: true, reason: expect.stringMatching(/is gone/) });
    expect(mine[live]).toMatchObject({
      prunable: false,
      reason: expect.stringMatching(/is running/),
    });
    expect(mine[remote]).toMatchObject({
      prunable: false,
      reason: "owned by a process on some-other-host",
    });
    expect(await engineInventory()).toEqual(before);
    const text = await runCli(["prune"]);
    expect(text.stdout).toMatch(new RegExp(`prunable +${dead} `));
    expect(text.stderr).toContain("vault-ha prune --yes");
  });

  it("--yes removes only dead owners' clusters; --older-than reaches other hosts' old ones", async () => {
    const pruned = await runCli(["prune", "--yes"]);
    expect(pruned.exitCode, pruned.stderr).toBe(0);
    expect(await exists(`${dead}-data`)).toBe(false);
    expect(await exists(`${live}-data`)).toBe(true);
    expect(await exists(`${remote}-data`)).toBe(true);
    expect(await exists(`${dead}-unlabelled`)).toBe(true);

    const old = await runCli(["prune", "--yes", "--older-than", "2h"]);
    expect(old.exitCode, old.stderr).toBe(0);
    expect(await exists(`${remote}-data`)).toBe(false);
    expect(await exists(`${dead}-unlabelled`)).toBe(true);

    const bad = await runCli(["prune", "--older-than", "soon"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim().split("\n")).toHaveLength(1);
  });
});

describe("a poisoned environment changes nothing and leaks nothing", () => {
  const poison = {
    VAULT_TOKEN: "hvs.poisoned-token",
    VAULT_ADDR: "http://127.0.0.1:1",
    VAULT_NAMESPACE: "poisoned",
    VAULT_PREFIX: "/poisoned",
    VAULT_SKIP_VERIFY: "true",
    AWS_PROFILE: "poisoned",
    AWS_REGION: "mars-north-1",
    AWS_ACCESS_KEY_ID: "AKIAPOISONED",
    AWS_SECRET_ACCESS_KEY: "poisoned",
    DEBUG: "*",
    NODE_DEBUG: "http,net",
    NODE_OPTIONS: "--trace-deprecation",
  };

  it("the documented CI flow: up --ephemeral --json, wait, env (eval'd, host vault and aws used), reset", async () => {
    const cwd = await mkdtemp(path.join(tmpdir(), "vault-ha-ci-flow-"));
    const stateDir = await mkdtemp(path.join(tmpdir(), "vault-ha-ci-state-"));
    const env = { ...poison, VAULT_HA_STATE_DIR: stateDir };
    let project = "";
    const outputs: string[] = [];
    const run = async (args: string[]) => {
      const result = await runCli(args, { cwd, env, timeout: 600_000 });
      outputs.push(result.stdout, result.stderr);
      return result;
    };
    try {
      const up = await run(["up", "--ephemeral", "--json"]);
      expect(up.exitCode, up.stderr).toBe(0);
      const summary = JSON.parse(up.stdout);
      project = summary.project;
      const active = await expectOneActive(
        summary.nodes.map((node: { url: string }) => node.url),
        { endpoint: summary.dynamodbEndpoint },
      );
      expect(summary.activeUrl).toBe(summary.nodes[active].url);
      expect(summary).toMatchObject({
        changed: true,
        initialized: true,
        composeFile: expect.stringContaining(stateDir),
      });
      expect(summary.keysFile).toBe(path.join(stateDir, project, "init.json"));

      const wait = await run(["wait", "--project", project, "--timeout", "60"]);
      expect(wait.exitCode, wait.stderr).toBe(0);

      const sh = await run(["env", "--project", project, "--format", "sh"]);
      expect(sh.exitCode, sh.stderr).toBe(0);
      // The host's own clients, configured only by what `env` printed.
      const script = [
        'eval "$(cat)"',
        "vault secrets enable -version=2 -path=secret kv >/dev/null",
        "vault kv put -mount=secret ci/flow answer=42 >/dev/null",
        // -field prints the bare value, without a newline.
        "vault kv get -field=answer -mount=secret ci/flow",
        "echo",
        // Debian's AWS CLI predates AWS_ENDPOINT_URL_DYNAMODB; newer ones read it themselves.
        'aws dynamodb list-tables --endpoint-url "$AWS_ENDPOINT_URL_DYNAMODB" --output text',
      ].join(" && ");
      const used = await execa("sh", ["-c", script], {
        input: sh.stdout,
        reject: false,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, AWS_PAGER: "" },
        extendEnv: false,
      });
      expect(used.exitCode, used.stderr).toBe(0);
      expect(used.stdout).toMatch(/^42$/m);
      expect(used.stdout).toMatch(/TABLENAMES\s+vault-data/);

      const wrong = await run(["wait", "--project", testProject("nothing-here"), "--timeout", "1"]);
      expect(wrong.exitCode).toBe(4);

      const keys = JSON.parse(
        await import("node:fs/promises").then((fs) =>
          fs.readFile(path.join(stateDir, project, "init.json"), "utf8"),
        ),
      ) as { rootToken: string; keys: string[] };
      const everything = outputs.join("\n");
      expect(everything).not.toContain(keys.keys[0]);
      // The root token appears only where it is asked for: env's own output.
      const unasked = outputs.filter((_, index) => index !== 4).join("\n");
      expect(unasked).not.toContain(keys.rootToken);
      expect(everything).not.toContain("poisoned-token");
    } finally {
      if (project) {
        const reset = await runCli(["reset", "--yes", "--project", project], { cwd, env });
        expect(reset.exitCode, reset.stderr).toBe(0);
        expect(await projectResources(project)).toEqual({
          containers: [],
          networks: [],
          volumes: [],
        });
      }
      expect(await readdir(cwd)).toEqual([]);
      await rm(cwd, { recursive: true, force: true });
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});

describe("a poisoned environment and the harness", () => {
  it("startCluster with hostile VAULT_*/AWS_*/DEBUG variables: same cluster, nothing written to the terminal", async () => {
    const poison: Record<string, string> = {
      VAULT_TOKEN: "hvs.poisoned-token",
      VAULT_ADDR: "http://127.0.0.1:1",
      VAULT_NAMESPACE: "poisoned",
      VAULT_PREFIX: "/poisoned",
      VAULT_SKIP_VERIFY: "true",
      AWS_PROFILE: "poisoned",
      AWS_REGION: "mars-north-1",
      DEBUG: "*",
    };
    const saved = Object.fromEntries(Object.keys(poison).map((name) => [name, process.env[name]]));
    Object.assign(process.env, poison);
    const written: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      written.push(String(chunk));
      return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stderr.write;
    try {
      await using cluster = await startCluster({ ephemeral: true, nodes: 1 });
      await expectOneActive(
        cluster.nodes.map((node) => node.url),
        { endpoint: cluster.dynamodbEndpoint },
      );
      const output = written.join("");
      expect(output).not.toContain(cluster.rootToken);
      for (const key of cluster.unsealKeys) expect(output).not.toContain(key);
    } finally {
      process.stderr.write = original;
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});

describe("bad input: one line, a documented exit code, nothing created or deleted", () => {
  let cluster: CliCluster;
  let squatter: Server | undefined;
  let hung: Server | undefined;
  let work: string;
  beforeAll(async () => {
    cluster = await cliCluster("bad-input");
    work = await mkdtemp(path.join(tmpdir(), "vault-ha-bad-"));
  });
  afterAll(async () => {
    squatter?.close();
    hung?.close();
    await rm(work, { recursive: true, force: true });
    await cluster.cleanup();
  });

  async function shims(compose: "missing" | "v1"): Promise<string> {
    const dir = path.join(work, `shims-${compose}`);
    await mkdir(dir, { recursive: true });
    const realDocker = (await execa("sh", ["-c", "command -v docker"])).stdout.trim();
    await writeFile(
      path.join(dir, "docker"),
      `#!/bin/sh\nif [ "$1" = compose ]; then echo "docker: 'compose' is not a docker command." >&2; exit 1; fi\nexec ${realDocker} "$@"\n`,
      { mode: 0o755 },
    );
    if (compose === "v1")
      await writeFile(path.join(dir, "docker-compose"), "#!/bin/sh\necho 1.29.2\n", {
        mode: 0o755,
      });
    return dir;
  }

  const rows: {
    name: string;
    setup?: () => Promise<{ args?: string[]; env?: Record<string, string> } | undefined>;
    args?: string[];
    exit: number;
    message: RegExp;
  }[] = [
    {
      name: "Docker not answering",
      setup: async () => ({ env: { DOCKER_HOST: "tcp://127.0.0.1:1" } }),
      exit: 3,
      message: /the Docker engine at tcp:\/\/127\.0\.0\.1:1 does not answer/,
    },
    {
      name: "Docker hung (a socket that accepts and never answers)",
      setup: async () => {
        const socket = path.join(work, "hung.sock");
        hung = createServer(() => {});
        await new Promise<void>((resolve) => hung?.listen(socket, resolve));
        return { env: { DOCKER_HOST: `unix://${socket}` } };
      },
      exit: 3,
      message: /the Docker engine at unix:\/\/\S+hung\.sock did not answer a ping within \d+ ms/,
    },
    {
      name: "Compose missing",
      setup: async () => ({ env: { PATH: `${await shims("missing")}:/usr/bin:/bin` } }),
      exit: 3,
      message: /Docker Compose v2 is missing/,
    },
    {
      name: "Compose v1 only",
      setup: async () => ({ env: { PATH: `${await shims("v1")}:${process.env.PATH}` } }),
      exit: 3,
      message: /only Compose v1 \(docker-compose 1\.29\.2\) is installed/,
    },
    {
      name: "a host port held by a process",
      setup: async () => {
        squatter = createServer();
        await new Promise<void>((resolve) =>
          squatter?.listen(cluster.vaultPort + 1, "127.0.0.1", resolve),
        );
        return undefined;
      },
      exit: 5,
      message: /host port \d+ \(for vault-2\) is in use by another process; free it/,
    },
    {
      name: "a host port published by another project's container",
      setup: async () => {
        squatter?.close();
        squatter = undefined;
        const name = `${testProject("squatter")}`;
        await execa("docker", [
          "run",
          "-d",
          "--name",
          name,
          "--label",
          "com.docker.compose.project=someone-else",
          "-p",
          `127.0.0.1:${cluster.vaultPort + 2}:8200`,
          "--entrypoint",
          "sleep",
          DEFAULT_VAULT_IMAGE,
          "600",
        ]);
        return undefined;
      },
      exit: 5,
      message: /host port \d+ \(for vault-3\) is published by container t\w+-squatter/,
    },
    {
      name: "a corrupt keys file",
      setup: async () => {
        await execa("docker", ["rm", "-f", testProject("squatter")]);
        const dir = path.join(cluster.stateDir, cluster.project);
        await mkdir(dir, { recursive: true, mode: 0o700 });
        await writeFile(path.join(dir, "init.json"), '{"rootToken": "hvs.SECRET-EXCERPT', {
          mode: 0o600,
        });
        return undefined;
      },
      exit: 5,
      message: /init\.json is not valid JSON/,
    },
    {
      name: "bad YAML in the configuration file",
      setup: async () => {
        await rm(path.join(cluster.stateDir, cluster.project), { recursive: true, force: true });
        const file = path.join(work, "bad.yaml");
        await writeFile(file, "nodes: [3\n");
        return { args: ["--config", file] };
      },
      exit: 2,
      message: /bad\.yaml:\d+:\d+/,
    },
    {
      name: "a node count out of range",
      args: ["--nodes", "10"],
      exit: 2,
      message: /nodes: 10 is not allowed/,
    },
    {
      name: "an endpoint that would inject into the server configuration",
      args: ["--set", 'storage.endpoint=http://a/" ha_enabled = "false'],
      exit: 2,
      message: /storage\.endpoint/,
    },
    {
      name: "a private key in the certificates folder",
      setup: async () => {
        const certs = path.join(work, "certs-with-key");
        await mkdir(certs, { recursive: true });
        await execa("openssl", [
          "genpkey",
          "-algorithm",
          "EC",
          "-pkeyopt",
          "ec_paramgen_curve:P-256",
          "-out",
          path.join(certs, "oops.pem"),
        ]);
        return { args: ["--certs", certs] };
      },
      exit: 5,
      message: /oops\.pem holds a private key/,
    },
  ];

  it.each(rows.map((row) => [row.name, row] as const))("%s", async (_, row) => {
    const extra = (await row.setup?.()) ?? {};
    const before = await engineInventory();
    const cwdBefore = await readdir(cluster.cwd);
    const up = await cluster.run(
      ["up", ...(row.args ?? []), ...(extra.args ?? [])],
      extra.env ?? {},
    );
    expect(up.exitCode, up.stderr).toBe(row.exit);
    expect(up.stderr).toMatch(row.message);
    expect(up.stderr.trim().split("\n")[0]).toMatch(/^error: /);
    expect(up.stderr).not.toContain("SECRET-EXCERPT");
    expect(up.stderr).not.toMatch(/\n\s+at /);
    expect(await engineInventory()).toEqual(before);
    expect(await readdir(cluster.cwd)).toEqual(cwdBefore);
  });

  it("status and down with Docker not answering: exit 3 too", async () => {
    for (const command of ["status", "down", "reset"]) {
      const result = await cluster.run([command, "--yes"].slice(0, command === "reset" ? 2 : 1), {
        DOCKER_HOST: "tcp://127.0.0.1:1",
      });
      expect(result.exitCode, `${command}: ${result.stderr}`).toBe(3);
      expect(result.stderr.trim().split("\n")).toHaveLength(1);
    }
  });

  it("a node that never becomes healthy (its storage unreachable): exit 4 naming the logs command", async () => {
    const up = await cluster.run([
      "up",
      "--nodes",
      "1",
      "--set",
      "storage.endpoint=http://nowhere.invalid:8000",
      "--set",
      "storage.dynamodb_max_retries=0",
    ]);
    expect(up.exitCode, up.stderr).toBe(4);
    expect(up.stderr).toMatch(/vault-ha logs vault-1/);
    const reset = await cluster.run(["reset", "--yes"]);
    expect(reset.exitCode, reset.stderr).toBe(0);
  });

  it("a Compose build that fails (a --vault-image base that exists nowhere): exit 6 naming the command, nothing created, and the next up completes", async () => {
    // No registry answers here, and nobody has this image: `docker compose build` fails.
    const missing = `${testProject("no-such-base")}/vault:0.0.0`;
    const args = ["--nodes", "1"];
    const before = await engineInventory();
    const up = await cluster.run(["up", ...args, "--vault-image", missing]);
    expect(up.exitCode, up.stderr).toBe(6);
    const lines = up.stderr.trimEnd().split("\n");
    const errors = lines.filter((line) => line.startsWith("error: "));
    expect(errors, up.stderr).toHaveLength(1);
    expect(errors[0]).toMatch(
      new RegExp(
        `^error: building the images failed: docker compose -p ${cluster.project} -f \\S+ build dynamodb vault-1$`,
      ),
    );
    // What follows the line is the command's own output (its last lines), which names the image.
    const output = lines.slice(lines.indexOf(errors[0] as string) + 1);
    expect(output[0]).toMatch(/^ {2}\S/);
    expect(output.join("\n")).toContain(missing);
    expect(up.stderr).toContain("✖ building the images (docker compose build)");
    expect(up.stderr).not.toMatch(/\n\s+at /);
    // Nothing was started: no container, network or volume of the project
    // (nor any other), no image under the tag it would have built, no keys.
    expect(await projectResources(cluster.project)).toEqual({
      containers: [],
      networks: [],
      volumes: [],
    });
    expect(await engineInventory()).toEqual(before);
    await expect(docker.getImage(builtImageTag("vault", missing)).inspect()).rejects.toMatchObject({
      statusCode: 404,
    });
    const state = path.join(cluster.stateDir, cluster.project);
    expect(existsSync(path.join(state, "init.json"))).toBe(false);
    expect(existsSync(path.join(state, "up.lock"))).toBe(false);

    // No half-made cluster stands in the way: the next up (the default image) completes.
    const next = await cluster.run(["up", ...args]);
    expect(next.exitCode, next.stderr).toBe(0);
    expect(next.stdout).toContain("(newly initialised)");
    await expectOneActive(cluster.urls(1));
    const reset = await cluster.run(["reset", "--yes"]);
    expect(reset.exitCode, reset.stderr).toBe(0);
  });

  it("reset while an up of the same project runs is refused, naming the lock file", async () => {
    const child = cluster.spawn(["up"]);

    const exited = new Promise<number | null>((resolve) =>
      child.on("exit", (code) => resolve(code)),
    );
    const lock = path.join(cluster.stateDir, cluster.project, "up.lock");
    await eventually("the up to hold its lock", 60_000, async () => existsSync(lock));
    const reset = await cluster.run(["reset", "--yes"]);
    expect(reset.exitCode).toBe(5);
    expect(reset.stderr).toContain(lock);
    expect(await exited).toBe(0);
    await expectOneActive(cluster.urls(3));
  });
});

describe("images", () => {
  it("a rebuild removes the image it replaced: no dangling image per up --build", async () => {
    const work = await mkdtemp(path.join(tmpdir(), "vault-ha-rebuild-"));
    const project = testProject("rebuild");
    const dynamodb = await freePorts(2);
    const args = [
      "--project",
      project,
      "--nodes",
      "1",
      "--in-memory",
      "--vault-port",
      String(dynamodb + 1),
      "--dynamodb-port",
      String(dynamodb),
    ];
    const env = { VAULT_HA_STATE_DIR: path.join(work, "state") };
    const vaultTag = builtImageTag("vault", DEFAULT_VAULT_IMAGE);
    const imageId = async () => (await docker.getImage(vaultTag).inspect()).Id;
    try {
      for (const name of ["a", "b"]) {
        await mkdir(path.join(work, name));
        await execa("openssl", [
          "req",
          "-x509",
          "-newkey",
          "rsa:2048",
          "-nodes",
          "-days",
          "2",
          "-subj",
          `/CN=rebuild ${name}`,
          "-keyout",
          path.join(work, `${name}.key`),
          "-out",
          path.join(work, name, "root.pem"),
        ]);
      }
      const first = await runCli(["up", ...args, "--certs", path.join(work, "a")], {
        cwd: work,
        env,
        timeout: 600_000,
      });
      expect(first.exitCode, first.stderr).toBe(0);
      const before = await imageId();
      const second = await runCli(["up", ...args, "--certs", path.join(work, "b")], {
        cwd: work,
        env,
        timeout: 600_000,
      });
      expect(second.exitCode, second.stderr).toBe(0);
      expect(second.stderr).toContain("✔ building the images (docker compose build)");
      const after = await imageId();
      expect(after).not.toBe(before);
      await expect(docker.getImage(before).inspect()).rejects.toMatchObject({ statusCode: 404 });
      await expectOneActive([`http://127.0.0.1:${dynamodb + 1}`]);
    } finally {
      const reset = await runCli(["reset", "--yes", ...args], { cwd: work, env });
      expect(reset.exitCode, reset.stderr).toBe(0);
      await rm(work, { recursive: true, force: true });
    }
  });
});
