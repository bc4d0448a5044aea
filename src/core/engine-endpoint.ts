import { createHash } from "node:crypto";
import path from "node:path";
import { UsageError } from "./errors.js";

/**
 * Which Docker engine vault-ha talks to, resolved once per process and
 * handed to every part that reaches it: the Engine API client, `docker
 * compose`, the watchdog. The Docker CLI and Compose follow `docker context`;
 * dockerode and docker-modem do not, so without one resolution vault-ha could
 * compose on one engine and inspect another.
 */
export interface EngineEndpoint {
  /** unix:///var/run/docker.sock, tcp://docker:2375, ssh://user@host, ... */
  readonly host: string;
  /** TLS towards a tcp:// engine. */
  readonly tls: boolean;
  /** Verify the engine's certificate against ca.pem (DOCKER_TLS_VERIFY). */
  readonly tlsVerify: boolean;
  /** Folder holding ca.pem, cert.pem and key.pem, when TLS files are used. */
  readonly certPath: string | undefined;
  readonly source: "DOCKER_HOST" | "context" | "default";
  /** The Docker context it came from (source "context"). */
  readonly context: string | undefined;
}

/** The files endpoint resolution reads: the Docker CLI's configuration and sockets. */
export interface EngineFiles {
  readText(file: string): string | undefined;
  exists(file: string): boolean;
  readonly homeDir: string;
}

type Env = Readonly<Record<string, string | undefined>>;

const nonEmpty = (value: string | undefined) => (value ? value : undefined);

/** The Docker CLI's configuration folder: $DOCKER_CONFIG, else ~/.docker. */
export const dockerConfigDir = (env: Env, files: EngineFiles) =>
  nonEmpty(env.DOCKER_CONFIG) ?? path.join(files.homeDir, ".docker");

/**
 * The engine, chosen the way the Docker CLI chooses it: a non-empty
 * DOCKER_HOST (with DOCKER_TLS_VERIFY, DOCKER_TLS and DOCKER_CERT_PATH read
 * as the CLI reads them: any non-empty value turns TLS on), else
 * DOCKER_CONTEXT, else the current context in config.json, else the default
 * socket (Docker Desktop's per-user socket where it exists, as docker-modem
 * and Docker Desktop's own default context do).
 */
export function resolveEngineEndpoint(env: Env, files: EngineFiles): EngineEndpoint {
  const configDir = dockerConfigDir(env, files);
  const dockerHost = nonEmpty(env.DOCKER_HOST);
  if (dockerHost) {
    const tlsVerify = nonEmpty(env.DOCKER_TLS_VERIFY) !== undefined;
    const tls = tlsVerify || nonEmpty(env.DOCKER_TLS) !== undefined;
    return {
      host: dockerHost,
      tls,
      tlsVerify,
      certPath: tls ? (nonEmpty(env.DOCKER_CERT_PATH) ?? configDir) : undefined,
      source: "DOCKER_HOST",
      context: undefined,
    };
  }
  const context = nonEmpty(env.DOCKER_CONTEXT) ?? currentContext(configDir, files);
  if (context && context !== "default") return contextEndpoint(context, configDir, files);
  const desktopSocket = path.join(files.homeDir, ".docker", "run", "docker.sock");
  return {
    host: `unix://${files.exists(desktopSocket) ? desktopSocket : "/var/run/docker.sock"}`,
    tls: false,
    tlsVerify: false,
    certPath: undefined,
    source: "default",
    context: undefined,
  };
}

function currentContext(configDir: string, files: EngineFiles): string | undefined {
  const text = files.readText(path.join(configDir, "config.json"));
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as { currentContext?: unknown };
    return typeof parsed.currentContext === "string" ? nonEmpty(parsed.currentContext) : undefined;
  } catch {
    throw new UsageError(
      `${path.join(configDir, "config.json")} is not valid JSON, so the current Docker context cannot be read; fix the file or set DOCKER_HOST`,
    );
  }
}

/** Where the CLI keeps a context: its name's SHA-256, as a folder under contexts/. */
const contextKey = (name: string) => createHash("sha256").update(name).digest("hex");

function contextEndpoint(name: string, configDir: string, files: EngineFiles): EngineEndpoint {
  const key = contextKey(name);
  const metaFile = path.join(configDir, "contexts", "meta", key, "meta.json");
  const text = files.readText(metaFile);
  if (text === undefined) {
    throw new UsageError(
      `the Docker context "${name}" does not exist (no ${metaFile}); pick another with \`docker context use\` or set DOCKER_HOST`,
    );
  }
  let docker: { Host?: unknown; SkipTLSVerify?: unknown } | undefined;
  try {
    docker = (JSON.parse(text) as { Endpoints?: { docker?: typeof docker } }).Endpoints?.docker;
  } catch {
    docker = undefined;
  }
  if (typeof docker?.Host !== "string" || docker.Host === "") {
    throw new UsageError(
      `the Docker context "${name}" names no Docker endpoint (${metaFile}); recreate it with \`docker context create\` or set DOCKER_HOST`,
    );
  }
  const tlsDir = path.join(configDir, "contexts", "tls", key, "docker");
  const hasTlsFiles = files.exists(path.join(tlsDir, "ca.pem"));
  return {
    host: docker.Host,
    tls: hasTlsFiles || docker.Host.startsWith("https://"),
    tlsVerify: hasTlsFiles && docker.SkipTLSVerify !== true,
    certPath: hasTlsFiles ? tlsDir : undefined,
    source: "context",
    context: name,
  };
}

/** How the endpoint was chosen, for `doctor` and error messages. */
export function describeEndpointSource(endpoint: EngineEndpoint): string {
  switch (endpoint.source) {
    case "DOCKER_HOST":
      return "DOCKER_HOST";
    case "context":
      return `Docker context "${endpoint.context}"`;
    case "default":
      return "the default socket (no DOCKER_HOST, no Docker context)";
  }
}

/**
 * The environment `docker compose` runs with, pinned to the endpoint: a
 * context by name (so its TLS and ssh settings stay the CLI's to read), any
 * other endpoint as DOCKER_HOST. A `docker context use` in another terminal
 * while `up` runs cannot move Compose to another engine.
 */
export function composeEnvironment(endpoint: EngineEndpoint, env: Env): Record<string, string> {
  const pinned: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (value !== undefined) pinned[name] = value;
  if (endpoint.source === "DOCKER_HOST") return pinned;
  delete pinned.DOCKER_HOST;
  delete pinned.DOCKER_CONTEXT;
  if (endpoint.source === "context" && endpoint.context) pinned.DOCKER_CONTEXT = endpoint.context;
  else pinned.DOCKER_HOST = endpoint.host;
  return pinned;
}

/** A DOCKER_HOST-style URL taken apart; undefined for one that is not a URL. */
export function parseEngineHost(
  host: string,
): { scheme: string; hostname: string; port: string; username: string; path: string } | undefined {
  try {
    const url = new URL(host);
    return {
      scheme: url.protocol.replace(/:$/, ""),
      // IPv6 literals come back bracketed; the brackets belong to URLs only.
      hostname: url.hostname.replace(/^\[|\]$/g, ""),
      port: url.port,
      username: decodeURIComponent(url.username),
      path: decodeURIComponent(url.pathname),
    };
  } catch {
    return undefined;
  }
}
