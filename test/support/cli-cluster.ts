import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { type CliResult, runCli } from "./cli.js";
import { docker, removeProject } from "./docker.js";

/**
 * A cluster driven through the built CLI, with its own project name, host
 * ports, working folder and state folder, so test files never collide.
 */
export interface CliCluster {
  readonly project: string;
  readonly cwd: string;
  readonly stateDir: string;
  readonly vaultPort: number;
  readonly dynamodbPort: number;
  run(args: readonly string[], env?: Record<string, string | undefined>): Promise<CliResult>;
  cleanup(): Promise<void>;
}

export async function cliCluster(
  project: string,
  ports: { vault: number; dynamodb: number },
  extraArgs: readonly string[] = [],
): Promise<CliCluster> {
  await removeProject(project);
  const cwd = await mkdtemp(path.join(tmpdir(), `vault-ha-${project}-`));
  // Outside the working folder, so a test can see that nothing was written there.
  const stateDir = await mkdtemp(path.join(tmpdir(), `vault-ha-${project}-state-`));
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
    async cleanup() {
      await runCli(["reset", "--yes", ...configArgs], {
        cwd,
        env: { VAULT_HA_STATE_DIR: stateDir },
      });
      await removeProject(project);
      const { Volumes } = await docker.listVolumes({
        filters: { label: [`dev.vault-ha.project=${project}`] },
      });
      for (const volume of Volumes ?? [])
        await docker
          .getVolume(volume.Name)
          .remove()
          .catch(() => {});
      await rm(cwd, { recursive: true, force: true });
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}
