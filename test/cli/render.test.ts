import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { userInfo } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { PACKAGE_ROOT } from "../../src/package-paths.js";
import { runCli, withTempDir } from "../support/cli.js";

const composeConfig = (args: string[], cwd?: string) =>
  execa("docker", ["compose", ...args], { cwd, reject: false });

describe("vault-ha render (the built CLI)", () => {
  it.each([1, 3, 9])(
    "renders %i node(s) that the real Compose v2 validator accepts",
    async (nodes) => {
      await withTempDir(async (dir) => {
        const file = path.join(dir, "compose.yml");
        const result = await runCli(["render", "--nodes", String(nodes), "-o", file], { cwd: dir });
        expect(result.exitCode, result.stderr).toBe(0);
        const check = await composeConfig(["-f", file, "config", "-q"]);
        expect(check.exitCode, check.stderr).toBe(0);
        const services = await composeConfig(["-f", file, "config", "--services"]);
        expect(
          services.stdout.split("\n").filter((name) => name.startsWith("vault-")),
        ).toHaveLength(nodes);
      });
    },
  );

  it("in-memory and custom storage parameters also validate", async () => {
    await withTempDir(async (dir) => {
      await writeFile(
        path.join(dir, "vault-ha.config.yaml"),
        "project: custom\nnodes: 2\ndynamodb:\n  inMemory: true\n  hostPort: 18000\nstorage:\n  billing_mode: PAY_PER_REQUEST\n  table: custom.table\n",
      );
      const result = await runCli(["render"], { cwd: dir });
      expect(result.exitCode, result.stderr).toBe(0);
      const config = await composeConfig(
        ["-f", "compose.generated.yml", "config", "--format", "json"],
        dir,
      );
      expect(config.exitCode, config.stderr).toBe(0);
      const model = JSON.parse(config.stdout);
      expect(model.name).toBe("custom");
      expect(model.volumes ?? {}).toEqual({});
      expect(model.services["dynamodb-table"].environment.VAULT_TABLE).toBe("custom.table");
      expect(model.services.dynamodb.ports[0].published).toBe("18000");
    });
  });

  it.each([
    [["--nodes", "0"], "flags: nodes: 0 is not allowed; use a whole number from 1 to 9"],
    [["--nodes", "three"], 'flags: nodes: "three" is not allowed'],
    [["--key-shares", "2", "--key-threshold", "3"], "init.keyThreshold: 3 is not allowed"],
    [
      ["--set", "storage.tabel=x"],
      "storage.tabel is not a configuration key; did you mean storage.table?",
    ],
    [["--vault-port", "7999"], "keeps vault-2 (host port 8000) off the port dynamodb uses"],
  ])("bad input %j: exit 2, one clear line, nothing written", async (args, expected) => {
    await withTempDir(async (dir) => {
      const result = await runCli(["render", ...args], { cwd: dir });
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(expected);
      expect(result.stderr.split("\n").filter(Boolean)).toHaveLength(1);
      expect(await readdir(dir)).toEqual([]);
    });
  });

  it("a bad config file and a bad variable are both reported, each on its own line", async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, "vault-ha.config.yaml"), "nodes: 10\nstorage:\n  table: a\n");
      const result = await runCli(["render"], { cwd: dir, env: { VAULT_HA_NODEZ: "1" } });
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain("VAULT_HA_NODEZ is not a vault-ha setting");
      expect(result.stderr).toContain("vault-ha.config.yaml: nodes: 10 is not allowed");
      expect(result.stderr).toContain('vault-ha.config.yaml: storage.table: "a" is not allowed');
      expect(existsSync(path.join(dir, "compose.generated.yml"))).toBe(false);
    });
  });

  it("invalid YAML names the file and line", async () => {
    await withTempDir(async (dir) => {
      await writeFile(path.join(dir, "vault-ha.config.yaml"), "nodes: [3\n");
      const result = await runCli(["render"], { cwd: dir });
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toMatch(/vault-ha\.config\.yaml:\d+:\d+:/);
    });
  });

  it("--help of every command shows examples; an unknown command exits 2", async () => {
    for (const args of [["--help"], ["render", "--help"], ["config", "--help"]]) {
      const result = await runCli(args);
      expect(result.exitCode, args.join(" ")).toBe(0);
      expect(result.stdout).toContain("Examples:");
    }
    const unknown = await runCli(["frobnicate"]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain("unknown command");
  });

  it("is idempotent: rendering twice reports the file is up to date", async () => {
    await withTempDir(async (dir) => {
      expect((await runCli(["render"], { cwd: dir })).exitCode).toBe(0);
      const before = await readFile(path.join(dir, "compose.generated.yml"), "utf8");
      const again = await runCli(["render"], { cwd: dir });
      expect(again.stdout).toContain("is up to date");
      expect(await readFile(path.join(dir, "compose.generated.yml"), "utf8")).toBe(before);
    });
  });
});

describe("the packed tarball", () => {
  it("runs vault-ha --help and render through npx in an empty folder", {
    timeout: 900_000,
  }, async () => {
    await withTempDir(async (dir) => {
      // --ignore-scripts: `prepare` would rebuild dist/ in a checkout this
      // (non-root) user may only read; `npm test` built it moments ago.
      const pack = await execa(
        "npm",
        ["pack", "--json", "--ignore-scripts", "--pack-destination", dir],
        {
          cwd: PACKAGE_ROOT,
        },
      );
      const [{ filename, files }] = JSON.parse(pack.stdout) as [
        { filename: string; files: { path: string }[] },
      ];
      const shipped = files.map((file) => file.path);
      expect(shipped).toEqual(
        expect.arrayContaining([
          "bin/vault-ha.js",
          "dist/cli.js",
          "templates/vault-server.hcl",
          "docker/vault/Dockerfile",
          "docker/dynamodb/Dockerfile",
          "certs/README.md",
          "dist/watchdog.js",
        ]),
      );
      expect(shipped.filter((file) => /\.test\.|^src\/|^test\//.test(file))).toEqual([]);

      const work = path.join(dir, "empty");
      await mkdir(work);
      const npx = (args: string[]) =>
        execa("npx", ["--yes", "--package", path.join(dir, filename), "vault-ha", ...args], {
          cwd: work,
          reject: false,
          // As a user's shell runs it: none of the npm_* variables of the npm
          // that started this test run (npm_config_local_prefix would point npx
          // at this checkout), and npm's cache of the real home (the clean
          // room's HOME is new for every file).
          extendEnv: false,
          env: {
            ...Object.fromEntries(
              Object.entries(process.env).filter(([name]) =>
                /^(PATH|HOME|NODE_EXTRA_CA_CERTS|SSL_CERT_(FILE|DIR)|(HTTPS?|NO)_PROXY|(https?|no)_proxy)$/.test(
                  name,
                ),
              ),
            ),
            NO_COLOR: "1",
            npm_config_cache: path.join(userInfo().homedir, ".npm"),
          },
          timeout: 600_000,
        });
      const help = await npx(["--help"]);
      expect(help.exitCode, help.stderr).toBe(0);
      expect(help.stdout).toContain("Usage: vault-ha");
      const render = await npx(["render", "--nodes", "2"]);
      expect(render.exitCode, render.stderr).toBe(0);
      const check = await composeConfig(["-f", "compose.generated.yml", "config", "-q"], work);
      expect(check.exitCode, check.stderr).toBe(0);
      // Without ./certs, the package's own certificates folder is the build context.
      const text = await readFile(path.join(work, "compose.generated.yml"), "utf8");
      expect(text).toMatch(/context: \/.*\/certs/);
    });
  });
});
