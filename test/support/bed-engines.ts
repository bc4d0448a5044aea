import Docker from "dockerode";
import { describe } from "vitest";

/**
 * The test bed's extra engines (test/bed/engines/*.sh), started by
 * test/bed/with-engines.sh around the test run, which passes where each one
 * answers in VAULT_HA_BED_* variables. With CI=true a missing engine fails
 * the file; elsewhere (a laptop without root, which cannot start them) the
 * file is reported as skipped with the reason, never as passed.
 */
export function bedEngine(variable: string, engine: string): string | undefined {
  const value = bedVariable(variable);
  if (value) return value;
  if (process.env.CI === "true") {
    throw new Error(
      `${engine}: ${variable} is not set; run the end-to-end tier through npm test (test/bed/with-engines.sh starts ${engine} as root)`,
    );
  }
  return undefined;
}

/** A VAULT_HA_BED_* value, kept aside by the clean room (test/support/clean-room.ts). */
export function bedVariable(name: string): string | undefined {
  return (globalThis as { vaultHaBed?: Record<string, string> }).vaultHaBed?.[name];
}

/** describe() when the engine is there; a visible skip naming why otherwise. */
export function describeOnEngine(
  variable: string,
  engine: string,
  body: (value: string) => void,
): void {
  const value = bedEngine(variable, engine);
  if (value === undefined) {
    describe.skip(`${engine} (${variable} unset: the test bed's engines need root)`, () => {});
    return;
  }
  describe(engine, () => body(value));
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
