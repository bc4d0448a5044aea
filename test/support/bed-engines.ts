import Docker from "dockerode";
import { execa } from "execa";
import { describe, it } from "vitest";
import { packagePath } from "../../src/package-paths.js";

/**
 * The test bed's extra engines (test/bed/engines/*.sh), started by
 * test/bed/with-engines.sh around the test run, which passes where each one
 * answers in VAULT_HA_BED_* variables (kept aside by the clean room). A
 * missing engine fails its file, never skips it, as a missing Docker does:
 * run the end-to-end tier through `npm test` or `npm run test:e2e`.
 */
export function bedVariable(name: string): string | undefined {
  return (globalThis as { vaultHaBed?: Record<string, string> }).vaultHaBed?.[name];
}

/** describe() with the engine's address; a describe that fails, naming why, when it is missing. */
export function describeOnEngine(
  variable: string,
  engine: string,
  body: (value: string) => void,
): void {
  const value = bedVariable(variable);
  describe(engine, () => {
    if (value === undefined) {
      it("has its engine", () => {
        throw new Error(
          `${engine}: ${variable} is not set; run the end-to-end tier through npm test or npm run test:e2e (test/bed/with-engines.sh starts ${engine}, as root)`,
        );
      });
      return;
    }
    body(value);
  });
}

/**
 * `docker run --rm` of the bed's job image with the built package at
 * /vault-ha and Node at /opt/node, as a CI job container would run it.
 */
export function runJobContainer(
  image: string,
  dockerArgs: readonly string[],
  command: readonly string[],
  timeout = 900_000,
) {
  const nodeDir = bedVariable("VAULT_HA_BED_NODE_DIR") as string;
  return execa(
    "docker",
    [
      "run",
      "--rm",
      ...dockerArgs,
      "-v",
      `${packagePath()}:/vault-ha:ro`,
      "-v",
      `${nodeDir}:/opt/node:ro`,
      image,
      "/opt/node/bin/node",
      ...command,
    ],
    { reject: false, timeout },
  );
}

/** dockerode for a DOCKER_HOST-style unix:// URL (the oracle side, not vault-ha's). */
export function dockerAt(host: string): Docker {
  if (!host.startsWith("unix://")) throw new Error(`dockerAt wants a unix:// host, got ${host}`);
  return new Docker({ socketPath: host.slice("unix://".length) });
}

/** Every container, network and volume of a Compose project on that engine. */
export async function projectOn(engine: Docker, project: string) {
  const label = `com.docker.compose.project=${project}`;
  const [containers, networks, volumes] = await Promise.all([
    engine.listContainers({ all: true, filters: { label: [label] } }),
    engine.listNetworks({ filters: { label: [label] } }),
    engine.listVolumes({ filters: { label: [label] } }),
  ]);
  // Podman ORs label filters and may return more; keep this project's only.
  const mine = <T extends { Labels?: Record<string, string> | null }>(items: T[]) =>
    items.filter((item) => item.Labels?.["com.docker.compose.project"] === project);
  return {
    containers: mine(containers),
    networks: mine(networks),
    volumes: mine(volumes.Volumes ?? []),
  };
}
