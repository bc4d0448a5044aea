import { existsSync, readFileSync, realpathSync } from "node:fs";
import { homedir } from "node:os";
import {
  type EngineEndpoint,
  type EngineFiles,
  resolveEngineEndpoint,
} from "../../core/engine-endpoint.js";
import { type LocalFacts, type PortsPlacement, placePorts } from "../../core/ports-host.js";

type Env = Readonly<Record<string, string | undefined>>;

export const readText = (file: string) => {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
};

export const engineFiles = (env: Env): EngineFiles => ({
  readText,
  exists: existsSync,
  homeDir: env.HOME || homedir(),
});

/** The engine and where its ports answer, resolved once for a command. */
export interface EngineLocation {
  readonly endpoint: EngineEndpoint;
  readonly placement: PortsPlacement;
  readonly facts: LocalFacts;
}

export function locateEngine(env: Env, bindSetting = "auto"): EngineLocation {
  const endpoint = resolveEngineEndpoint(env, engineFiles(env));
  const facts = localFacts(endpoint);
  return { endpoint, placement: placePorts(endpoint, env, bindSetting, facts), facts };
}

export function localFacts(endpoint: EngineEndpoint): LocalFacts {
  const inContainer = existsSync("/.dockerenv") || existsSync("/run/.containerenv");
  const socket = unixSocketPath(endpoint);
  return {
    inContainer,
    socketMountedIn: inContainer && socket !== undefined && isMountPoint(socket),
    defaultGateway: inContainer ? defaultGateway(readText("/proc/net/route")) : undefined,
  };
}

export const unixSocketPath = (endpoint: EngineEndpoint) =>
  endpoint.host.startsWith("unix://") ? endpoint.host.slice("unix://".length) : undefined;

/** /proc/self/mountinfo's 5th field is the mount point, with spaces and such octal-escaped. */
function isMountPoint(file: string): boolean {
  let target: string;
  try {
    target = realpathSync(file);
  } catch {
    return false;
  }
  const mounts = readText("/proc/self/mountinfo") ?? "";
  return mounts.split("\n").some((line) => {
    const field = line.split(" ")[4];
    if (!field) return false;
    const point = field.replace(/\\([0-7]{3})/g, (_, octal: string) =>
      String.fromCharCode(Number.parseInt(octal, 8)),
    );
    return point === target || point === file;
  });
}

/**
 * The gateway of the default route in /proc/net/route: destination 00000000,
 * the gateway a little-endian hex IPv4 address.
 */
export function defaultGateway(routes: string | undefined): string | undefined {
  for (const line of (routes ?? "").split("\n").slice(1)) {
    const [, destination, gateway] = line.trim().split(/\s+/);
    if (destination !== "00000000" || !gateway || gateway === "00000000") continue;
    const bytes = gateway.match(/../g)?.map((pair) => Number.parseInt(pair, 16));
    if (bytes?.length === 4) return bytes.reverse().join(".");
  }
  return undefined;
}
