import { createHash } from "node:crypto";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  composeEnvironment,
  describeEndpointSource,
  type EngineFiles,
  parseEngineHost,
  resolveEngineEndpoint,
} from "./engine-endpoint.js";
import { UsageError } from "./errors.js";

const HOME = "/home/dev";
const CONFIG = path.join(HOME, ".docker");
const sha = (name: string) => createHash("sha256").update(name).digest("hex");

/** A Docker CLI configuration folder in memory. */
function files(entries: Record<string, string> = {}): EngineFiles {
  return {
    readText: (file) => entries[file],
    exists: (file) => file in entries,
    homeDir: HOME,
  };
}

const contextFiles = (name: string, host: string, extra: Record<string, string> = {}) => ({
  [path.join(CONFIG, "contexts", "meta", sha(name), "meta.json")]: JSON.stringify({
    Name: name,
    Endpoints: { docker: { Host: host, SkipTLSVerify: false } },
  }),
  ...extra,
});

describe("resolveEngineEndpoint: the Docker CLI's order", () => {
  it("takes a non-empty DOCKER_HOST over any context", () => {
    const endpoint = resolveEngineEndpoint(
      { DOCKER_HOST: "tcp://docker:2375", DOCKER_CONTEXT: "remote" },
      files(contextFiles("remote", "tcp://elsewhere:2375")),
    );
    expect(endpoint).toEqual({
      host: "tcp://docker:2375",
      tls: false,
      tlsVerify: false,
      certPath: undefined,
      source: "DOCKER_HOST",
      context: undefined,
    });
  });

  it("turns TLS on for any non-empty DOCKER_TLS_VERIFY, even 0, with ~/.docker as the default cert path", () => {
    const endpoint = resolveEngineEndpoint(
      { DOCKER_HOST: "tcp://docker:2376", DOCKER_TLS_VERIFY: "0" },
      files(),
    );
    expect(endpoint).toMatchObject({ tls: true, tlsVerify: true, certPath: CONFIG });
    expect(
      resolveEngineEndpoint(
        {
          DOCKER_HOST: "tcp://docker:2376",
          DOCKER_TLS_VERIFY: "1",
          DOCKER_CERT_PATH: "/certs/client",
        },
        files(),
      ).certPath,
    ).toBe("/certs/client");
    expect(
      resolveEngineEndpoint({ DOCKER_HOST: "tcp://docker:2376", DOCKER_TLS: "1" }, files()),
    ).toMatchObject({ tls: true, tlsVerify: false });
  });

  it("ignores an empty DOCKER_HOST, as the CLI does", () => {
    expect(resolveEngineEndpoint({ DOCKER_HOST: "" }, files()).source).toBe("default");
  });

  it("reads DOCKER_CONTEXT, then config.json's currentContext, from the context's meta.json", () => {
    const stored = contextFiles("colima", "unix:///home/dev/.colima/default/docker.sock", {
      [path.join(CONFIG, "config.json")]: JSON.stringify({ currentContext: "colima" }),
    });
    expect(resolveEngineEndpoint({}, files(stored))).toEqual({
      host: "unix:///home/dev/.colima/default/docker.sock",
      tls: false,
      tlsVerify: false,
      certPath: undefined,
      source: "context",
      context: "colima",
    });
    // DOCKER_CONTEXT wins over currentContext; "default" means the default socket.
    expect(resolveEngineEndpoint({ DOCKER_CONTEXT: "default" }, files(stored)).source).toBe(
      "default",
    );
  });

  it("honours DOCKER_CONFIG and a context's TLS files", () => {
    const dir = "/etc/dockercfg";
    const key = sha("secure");
    const endpoint = resolveEngineEndpoint(
      { DOCKER_CONFIG: dir, DOCKER_CONTEXT: "secure" },
      files({
        [path.join(dir, "contexts", "meta", key, "meta.json")]: JSON.stringify({
          Endpoints: { docker: { Host: "tcp://build.example:2376", SkipTLSVerify: false } },
        }),
        [path.join(dir, "contexts", "tls", key, "docker", "ca.pem")]: "ca",
      }),
    );
    expect(endpoint).toMatchObject({
      host: "tcp://build.example:2376",
      tls: true,
      tlsVerify: true,
      certPath: path.join(dir, "contexts", "tls", key, "docker"),
    });
  });

  it("refuses a context that does not exist, naming it and what to do", () => {
    expect(() => resolveEngineEndpoint({ DOCKER_CONTEXT: "gone" }, files())).toThrowError(
      /the Docker context "gone" does not exist .*docker context use.* or set DOCKER_HOST/,
    );
    expect(() => resolveEngineEndpoint({ DOCKER_CONTEXT: "gone" }, files())).toThrowError(
      UsageError,
    );
  });

  it("refuses an unreadable config.json instead of guessing an engine", () => {
    expect(() =>
      resolveEngineEndpoint({}, files({ [path.join(CONFIG, "config.json")]: "{broken" })),
    ).toThrowError(/config.json is not valid JSON/);
  });

  it("defaults to Docker Desktop's per-user socket where it exists, else /var/run/docker.sock", () => {
    expect(resolveEngineEndpoint({}, files()).host).toBe("unix:///var/run/docker.sock");
    const desktop = path.join(HOME, ".docker", "run", "docker.sock");
    expect(resolveEngineEndpoint({}, files({ [desktop]: "" })).host).toBe(`unix://${desktop}`);
  });
});

describe("composeEnvironment pins Compose to the resolved engine", () => {
  it("passes DOCKER_HOST and TLS settings through untouched", () => {
    const env = { DOCKER_HOST: "tcp://docker:2376", DOCKER_TLS_VERIFY: "1", PATH: "/bin" };
    expect(composeEnvironment(resolveEngineEndpoint(env, files()), env)).toEqual(env);
  });

  it("names the context explicitly, so a later `docker context use` cannot move Compose", () => {
    const stored = contextFiles("remote", "tcp://10.0.0.5:2375", {
      [path.join(CONFIG, "config.json")]: JSON.stringify({ currentContext: "remote" }),
    });
    const env = { PATH: "/bin" };
    expect(composeEnvironment(resolveEngineEndpoint(env, files(stored)), env)).toEqual({
      PATH: "/bin",
      DOCKER_CONTEXT: "remote",
    });
  });

  it("sets DOCKER_HOST to the default socket and drops a DOCKER_CONTEXT of default", () => {
    const env = { DOCKER_CONTEXT: "default", PATH: "/bin" };
    expect(composeEnvironment(resolveEngineEndpoint(env, files()), env)).toEqual({
      PATH: "/bin",
      DOCKER_HOST: "unix:///var/run/docker.sock",
    });
  });
});

describe("parseEngineHost and describeEndpointSource", () => {
  it("takes tcp, ssh and IPv6 hosts apart", () => {
    expect(parseEngineHost("tcp://docker:2375")).toMatchObject({
      scheme: "tcp",
      hostname: "docker",
      port: "2375",
    });
    expect(parseEngineHost("ssh://ci@build-host")).toMatchObject({
      scheme: "ssh",
      hostname: "build-host",
      username: "ci",
    });
    expect(parseEngineHost("tcp://[fd00::5]:2375")?.hostname).toBe("fd00::5");
    expect(parseEngineHost("not a url")).toBeUndefined();
  });

  it("says where the engine came from", () => {
    expect(
      describeEndpointSource(resolveEngineEndpoint({ DOCKER_HOST: "tcp://a:1" }, files())),
    ).toBe("DOCKER_HOST");
    expect(
      describeEndpointSource(
        resolveEngineEndpoint({ DOCKER_CONTEXT: "x" }, files(contextFiles("x", "tcp://b:2"))),
      ),
    ).toBe('Docker context "x"');
  });
});
