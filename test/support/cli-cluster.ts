import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "vitest";
import { CLI, type CliResult, runCli } from "./cli.js";
import { projectResources, removeProject } from "./docker.js";
import { freePorts, testProject } from "./names.js";

/**
 * A cluster driven through the built CLI, with a project name unique to this
 * run, host ports found free at run time, and its own working and state
 * folders, so test files (and two test runs on one engine) never collide.
 */
export interface CliCluster {
  readonly project: string;
  readonly cwd: string;
  readonly stateDir: string;
  readonly vaultPort: number;
  readonly dynamodbPort: number;
  /** The CLI with this cluster's project, ports and state folder. */
  run(args: readonly string[], env?: Record<string, string | undefined>): Promise<CliResult>;
  /** The same, started in the background (a long `up`, `status --watch`). */
  spawn(args: readonly string[], stdio?: "ignore" | "pipe"): ChildProcess;
  /** The Vault nodes' URLs from the host, vault-1 first. */
  urls(nodes: number): string[];
  /**
   * `reset --yes` must succeed and leave nothing of the project behind; a
   * leak fails here, in the file that caused it, not later as somebody
   * else's port conflict.
   */
  cleanup(): Promise<void>;
}

export async function cliCluster(
  name: string,
  extraArgs: readonly string[] = [],
  options: { nodes?: number } = {},
): Promise<CliCluster> {
  const project = testProject(name);
  const nodes = options.nodes ?? 3;
  const base = await freePorts(nodes + 1);
  const ports = { dynamodb: base, vault: base + 1 };
  const cwd = await mkdtemp(path.join(tmpdir(), `vault-ha-${name}-`));
  // Outside the working folder, so a test can see that nothing was written there.
  const stateDir = await mkdtemp(path.join(tmpdir(), `vault-ha-${name}-state-`));
  const configArgs = [
    "--project",
    project,
    "--vault-port",
    String(ports.vault),
    "--dynamodb-port",
    String(ports.dynamodb),
    ...extraArgs,
  ];
  return {
    project,
    cwd,
    stateDir,
    vaultPort: ports.vault,
    dynamodbPort: ports.dynamodb,
    run: (args, env = {}) =>
      runCli([...args, ...configArgs], {
        cwd,
        env: { VAULT_HA_STATE_DIR: stateDir, ...env },
        timeout: 600_000,
      }),
    spawn: (args, stdio = "ignore") =>
      spawn(process.execPath, [CLI, ...args, ...configArgs], {
        cwd,
        env: { ...process.env, VAULT_HA_STATE_DIR: stateDir, NO_COLOR: "1" },
        stdio: ["ignore", stdio, stdio],
      }),
    urls: (count) =>
      Array.from({ length: count }, (_, index) => `http://127.0.0.1:${ports.vault + index}`),
    async cleanup() {
      const reset = await runCli(["reset", "--yes", ...configArgs], {
        cwd,
        env: { VAULT_HA_STATE_DIR: stateDir },
      });
      const left = await projectResources(project);
      // Whatever happens, the engine is left clean for the next file.
      await removeProject(project);
      await rm(cwd, { recursive: true, force: true });
      await rm(stateDir, { recursive: true, force: true });
      expect(reset.exitCode, reset.stderr).toBe(0);
      expect(left).toEqual({ containers: [], networks: [], volumes: [] });
    },
  };
}
