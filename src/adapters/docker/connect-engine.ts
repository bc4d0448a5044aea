import { Agent } from "node:https";
import path from "node:path";
import Modem from "docker-modem";
import {
  type EngineEndpoint,
  parseEngineHost,
  resolveEngineEndpoint,
} from "../../core/engine-endpoint.js";
import { createDockerEngine } from "./docker-engine.js";
import { engineFiles, readText, unixSocketPath } from "./engine-location.js";

type Env = Readonly<Record<string, string | undefined>>;

/**
 * A docker-modem for the endpoint, built from it alone. docker-modem would
 * read DOCKER_HOST itself but knows no contexts, turns TLS on only for
 * DOCKER_TLS_VERIFY=1 or port 2376, and so could disagree with the CLI.
 */
export function modemFor(endpoint: EngineEndpoint): Modem {
  const socket = unixSocketPath(endpoint);
  if (socket !== undefined) return new Modem({ socketPath: socket });
  if (endpoint.host.startsWith("npipe://")) {
    return new Modem({ socketPath: endpoint.host.slice("npipe://".length) });
  }
  const parsed = parseEngineHost(endpoint.host);
  if (!parsed) return new Modem();
  if (parsed.scheme === "ssh") {
    return new Modem({
      protocol: "ssh",
      host: parsed.hostname,
      port: parsed.port || "22",
      username: parsed.username || undefined,
    } as Modem.ConstructorOptions);
  }
  const tlsFiles =
    endpoint.certPath !== undefined
      ? {
          ca: readText(path.join(endpoint.certPath, "ca.pem")),
          cert: readText(path.join(endpoint.certPath, "cert.pem")),
          key: readText(path.join(endpoint.certPath, "key.pem")),
        }
      : {};
  return new Modem({
    protocol: endpoint.tls ? "https" : "http",
    host: parsed.hostname,
    port: parsed.port || (endpoint.tls ? "2376" : "2375"),
    ...tlsFiles,
    // DOCKER_TLS without DOCKER_TLS_VERIFY: encrypted, the certificate not checked (the CLI's --tls).
    ...(endpoint.tls && !endpoint.tlsVerify
      ? { agent: new Agent({ rejectUnauthorized: false, keepAlive: false }) }
      : {}),
  } as Modem.ConstructorOptions);
}

/** The Engine API client for the engine this environment resolves to. */
export function connectEngine(env: Env, endpoint = resolveEngineEndpoint(env, engineFiles(env))) {
  return createDockerEngine({ modem: modemFor(endpoint) }, { address: endpoint.host });
}
