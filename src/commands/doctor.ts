import type { EngineInfo } from "../adapters/docker/docker-engine.js";
import type { CommandContext } from "../cli-context.js";
import { composeEnvironment, describeEndpointSource } from "../core/engine-endpoint.js";
import { ALL_INTERFACES, isLoopback } from "../core/ports-host.js";

export interface DoctorOptions {
  readonly json?: boolean;
}

/** What the engine is, for people: Podman, Docker Desktop or Docker Engine. */
export function engineKind(info: EngineInfo): string {
  if (info.podman) return "Podman";
  if (info.operatingSystem === "Docker Desktop") return "Docker Desktop";
  return "Docker Engine";
}

/**
 * What vault-ha would use, and why: the engine (and how it was found), its
 * kind, version, API and rootless mode, Compose, and where published ports
 * are bound and reached. Fails like every command when the engine or Compose
 * is missing, so a CI step can run it first.
 */
export async function doctorCommand(context: CommandContext, options: DoctorOptions) {
  const { config } = await context.loadConfig();
  const [{ locateEngine }, { connectEngine }, { createComposeCli, MIN_COMPOSE_VERSION }] =
    await Promise.all([
      import("../adapters/docker/engine-location.js"),
      import("../adapters/docker/connect-engine.js"),
      import("../adapters/compose/compose-cli.js"),
    ]);
  const { endpoint, placement, facts } = locateEngine(context.env, config.bindAddress);
  const docker = connectEngine(context.env, endpoint);
  await docker.ping();
  const info = await docker.engineInfo();
  const compose = await createComposeCli(composeEnvironment(endpoint, context.env)).version();
  const exposed = !isLoopback(placement.bindAddress);
  if (options.json) {
    context.output.json({
      engine: {
        host: endpoint.host,
        source: endpoint.source,
        context: endpoint.context ?? null,
        tls: endpoint.tls,
        kind: engineKind(info),
        version: info.serverVersion,
        apiVersion: info.apiVersion,
        operatingSystem: info.operatingSystem,
        rootless: info.rootless,
      },
      compose: { version: compose, minimum: MIN_COMPOSE_VERSION },
      ports: {
        bindAddress: placement.bindAddress,
        connectHost: placement.connectHost,
        reason: placement.reason,
        exposed,
      },
      inContainer: facts.inContainer,
      socketMountedIn: facts.socketMountedIn,
    });
    return;
  }
  const rows: [string, string][] = [
    [
      "engine",
      `${engineKind(info)} ${info.serverVersion} (API ${info.apiVersion}), ${info.rootless ? "rootless" : "rootful"}, ${info.operatingSystem}`,
    ],
    ["address", `${endpoint.host}${endpoint.tls ? " (TLS)" : ""}`],
    ["found by", describeEndpointSource(endpoint)],
    ["compose", `${compose} (vault-ha needs ${MIN_COMPOSE_VERSION} or newer)`],
    ["ports", `published on ${placement.bindAddress}, reached at ${placement.connectHost}`],
    ["because", placement.reason],
    [
      "container",
      facts.inContainer
        ? `this runs in a container${facts.socketMountedIn ? "; the engine's socket is mounted from the host" : ""}`
        : "this does not run in a container",
    ],
  ];
  for (const [label, value] of rows) context.output.info(`${label.padEnd(10)} ${value}`);
  if (exposed) {
    context.output.warn(
      `ports are published on ${placement.bindAddress === ALL_INTERFACES ? "every interface" : placement.bindAddress} of the engine's host: Vault and DynamoDB answer to anyone who reaches it (set bindAddress to change that)`,
    );
  }
}
