import { spawn } from "node:child_process";
import { cp, mkdir, mkdtemp, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { startCluster } from "../../src/index.js";
import { PACKAGE_ROOT } from "../../src/package-paths.js";
import { projectResources } from "../support/docker.js";
import { vaultRequest } from "../support/vault-http.js";

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
      const urls = [...first.nodes, ...second.nodes].map((node) => node.url);
      expect(new Set(urls).size).toBe(3);
      expect(first.dynamodbEndpoint).not.toBe(second.dynamodbEndpoint);
      for (const cluster of [first, second]) {
        expect(cluster.nodes.filter((node) => node.mode === "active")).toHaveLength(1);
        const health = await vaultRequest(cluster.activeUrl, "GET", "sys/health");
        expect(health.status).toBe(200);
        const self = await vaultRequest(cluster.activeUrl, "GET", "auth/token/lookup-self", {
          token: cluster.rootToken,
        });
        expect(self.status).toBe(200);
        expect(cluster.unsealKeys).toHaveLength(5);
        // In memory: no volume at all.
        expect((await projectResources(cluster.project)).volumes).toEqual([]);
      }
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
    expect(await projectResources(first.project)).toEqual(empty);
    expect(await projectResources(second.project)).toEqual(empty);
  });

  it("kill, waitForActive, stepDown, unseal and status drive a real failover; await using stops it", async () => {
    let project = "";
    {
      await using cluster = await startCluster({ ephemeral: true, nodes: 3 });
      project = cluster.project;
      const before = cluster.nodes.find((node) => node.mode === "active")?.name as string;
      const moved = await cluster.stepDown();
      expect(moved.from).toBe(before);
      expect(cluster.nodes.find((node) => node.mode === "active")?.name).toBe(moved.to);

      await cluster.kill(moved.to);
      const after = await cluster
        .waitForActive({ timeoutMs: 60_000 })
        .catch(async () => cluster.status());
      // The killed node is down; another holds the lock once its TTL ran out.
      const status = await cluster.status();
      expect(status.nodes.find((node) => node.name === moved.to)?.mode).toBe("down");
      expect(status.nodes.filter((node) => node.mode === "active")).toHaveLength(1);
      expect(after.active).not.toBe(moved.to);
      expect(await cluster.unseal()).toEqual([]);
    }
    expect(await projectResources(project)).toEqual(empty);
  });

  it("cleans up when the owning process is killed with SIGTERM", async () => {
    const script = `
      const { startCluster } = await import(${JSON.stringify(path.join(PACKAGE_ROOT, "dist", "index.js"))});
      const cluster = await startCluster({ ephemeral: true, nodes: 1 });
      process.stdout.write(JSON.stringify({ project: cluster.project }) + "\\n");
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.on("exit", (_, signal) => resolve(signal)),
    );
    const project = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (chunk: Buffer) => {
        const line = chunk.toString().trim();
        if (line.startsWith("{")) resolve(JSON.parse(line).project);
      });
      child.on("exit", () => reject(new Error("child exited before starting a cluster")));
    });
    expect((await projectResources(project)).containers.length).toBeGreaterThan(0);
    child.kill("SIGTERM");
    expect(await exited).toBe("SIGTERM");
    expect(await projectResources(project)).toEqual(empty);
  });

  it("rejects bad options with the same one-line errors as the configuration file", async () => {
    await expect(startCluster({ ephemeral: true, nodes: 0 })).rejects.toThrow(
      "options: nodes: 0 is not allowed; use a whole number from 1 to 9",
    );
  });

  it("the vitest example in examples/vitest runs against a real cluster", async () => {
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
