import type { EngineEndpoint } from "./engine-endpoint.js";
import { parseEngineHost } from "./engine-endpoint.js";

/** What this process can tell about where it runs, read once (see engine-location.ts). */
export interface LocalFacts {
  /** /.dockerenv or /run/.containerenv exists: this process runs in a container. */
  readonly inContainer: boolean;
  /**
   * The engine's unix socket is a bind mount from outside this container
   * (GitHub's `container:` jobs, devcontainers): the engine and its published
   * ports live on the host, not here. A socket the engine created in this
   * very filesystem means the engine runs beside this process.
   */
  readonly socketMountedIn: boolean;
  /** This network namespace's default gateway (/proc/net/route), if any. */
  readonly defaultGateway: string | undefined;
}

/** Where published ports are bound on the engine's side and reached from here. */
export interface PortsPlacement {
  /** The host in every URL vault-ha prints or returns. */
  readonly connectHost: string;
  /** The address Compose publishes ports on, in the engine's network namespace. */
  readonly bindAddress: string;
  /** Why, for `doctor`. */
  readonly reason: string;
}

export const LOOPBACK = "127.0.0.1";
/** All of the engine host's interfaces: what a remote engine needs, and what it exposes. */
export const ALL_INTERFACES = "0.0.0.0";

type Env = Readonly<Record<string, string | undefined>>;

export const isLoopback = (host: string) =>
  host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);

/**
 * Testcontainers' order, with one step of its own: the VAULT_HA_HOST
 * override, else the host of a tcp:// or ssh:// engine (GitLab's
 * `docker:dind` service answers as `docker`), else, inside a container whose
 * engine socket is mounted in from the host, this container's default
 * gateway (the host, seen from its bridge), else 127.0.0.1.
 *
 * Ports are published on loopback unless the connect host is elsewhere: a
 * port published on 127.0.0.1 of a remote engine binds that engine's
 * loopback, out of reach. `bindAddress` in the configuration overrides it.
 * Joining the job container's network instead was considered: it would
 * change a container vault-ha did not create, and `compose down` cannot
 * remove a network that a foreign container is still attached to.
 */
export function placePorts(
  endpoint: EngineEndpoint,
  env: Env,
  bindSetting: string,
  facts: LocalFacts,
): PortsPlacement {
  const { connectHost, reason } = connectHostFor(endpoint, env, facts);
  const bindAddress =
    bindSetting !== "auto" ? bindSetting : isLoopback(connectHost) ? LOOPBACK : ALL_INTERFACES;
  return { connectHost, bindAddress, reason };
}

function connectHostFor(
  endpoint: EngineEndpoint,
  env: Env,
  facts: LocalFacts,
): { connectHost: string; reason: string } {
  const override = env.VAULT_HA_HOST;
  if (override) return { connectHost: override, reason: "VAULT_HA_HOST" };
  const parsed = parseEngineHost(endpoint.host);
  if (parsed && ["tcp", "ssh", "http", "https"].includes(parsed.scheme) && parsed.hostname) {
    return isLoopback(parsed.hostname)
      ? { connectHost: LOOPBACK, reason: `the engine (${endpoint.host}) runs on this machine` }
      : { connectHost: parsed.hostname, reason: `the host of the engine's URL (${endpoint.host})` };
  }
  if (facts.inContainer && facts.socketMountedIn) {
    if (facts.defaultGateway) {
      return {
        connectHost: facts.defaultGateway,
        reason:
          "inside a container whose engine socket is mounted from the host: the container's default gateway",
      };
    }
    return {
      connectHost: LOOPBACK,
      reason:
        "inside a container with the host's engine socket, but no default gateway was found; set VAULT_HA_HOST",
    };
  }
  return { connectHost: LOOPBACK, reason: "a local engine" };
}

/** http://host:port, with an IPv6 literal bracketed. */
export const hostUrl = (host: string, port: number, scheme = "http") =>
  `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}`;
