import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import Docker from "dockerode";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  DockerUnavailableError,
  ExitCode,
  ExternalCommandError,
  VaultHaError,
} from "../../core/errors.js";
import { createDockerEngine } from "./docker-engine.js";

let dir: string;
let socketPath: string;
let server: Server | undefined;
const sockets = new Set<Socket>();

beforeEach(async () => {
  // The engine under test is the fake socket, whatever this shell points at.
  vi.stubEnv("DOCKER_HOST", undefined);
  dir = await mkdtemp(path.join(tmpdir(), "vault-ha-engine-"));
  socketPath = path.join(dir, "docker.sock");
});

afterEach(async () => {
  vi.unstubAllEnvs();
  for (const socket of sockets) socket.destroy();
  sockets.clear();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function listen(created: Server): Promise<void> {
  server = created;
  created.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => created.listen(socketPath, resolve));
}

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
}

/** An engine that answers each request from `answer`, recording what it was asked. */
async function fakeEngine(
  answer: (seen: Seen) => { status: number; body?: unknown },
): Promise<{ requests: Seen[]; engine: ReturnType<typeof createDockerEngine> }> {
  const requests: Seen[] = [];
  await listen(
    createServer((request: IncomingMessage, response: ServerResponse) => {
      const url = new URL(request.url ?? "/", "http://engine");
      const seen = { method: request.method ?? "", path: url.pathname, query: url.searchParams };
      requests.push(seen);
      const { status, body } = answer(seen);
      response.writeHead(status, { "content-type": "application/json" });
      response.end(body === undefined ? "" : JSON.stringify(body));
    }),
  );
  return { requests, engine: createDockerEngine(new Docker({ socketPath })) };
}

const labelFilters = (seen: Seen | undefined) =>
  (JSON.parse(seen?.query.get("filters") ?? "{}") as { label?: string[] }).label;

describe("a Docker engine that never answers", () => {
  it("fails ping within its budget, naming the engine and the budget", async () => {
    // Accepts the connection, reads the request, says nothing.
    await listen(createNetServer(() => {}));
    const engine = createDockerEngine(new Docker({ socketPath }), { pingTimeoutMs: 200 });
    const started = performance.now();
    const error = await engine.ping().catch((caught: unknown) => caught);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(DockerUnavailableError);
    expect((error as DockerUnavailableError).exitCode).toBe(ExitCode.dockerUnavailable);
    expect((error as Error).message).toContain(`unix://${socketPath}`);
    expect((error as Error).message).toContain("200 ms");
  });

  it("fails every other call within the ordinary budget", async () => {
    await listen(createNetServer(() => {}));
    const engine = createDockerEngine(new Docker({ socketPath }), { timeoutMs: 200 });
    const calls = [
      engine.listContainers({ a: "1" }),
      engine.imageId("vault:latest"),
      engine.removeVolume("v"),
      engine.engineInfo(),
    ];
    for (const error of await Promise.all(calls.map((call) => call.catch((caught) => caught)))) {
      expect(error).toBeInstanceOf(DockerUnavailableError);
      expect((error as Error).message).toContain("within 200 ms");
    }
  });

  it("says the engine does not answer when nothing listens on the socket", async () => {
    const error = await createDockerEngine(new Docker({ socketPath }))
      .ping()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DockerUnavailableError);
    expect((error as Error).message).toContain("ENOENT");
  });
});

describe("engine errors", () => {
  it("maps a 500 from /containers/json into the taxonomy", async () => {
    const { engine } = await fakeEngine(() => ({ status: 500, body: { message: "disk full" } }));
    const error = await engine.listProjectContainers("demo").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DockerUnavailableError);
    expect((error as Error).message).toContain("HTTP 500: disk full");
    expect((error as Error).cause).toBeDefined();
  });

  it("maps a refusal (409) to a failed external command", async () => {
    const { engine } = await fakeEngine(() => ({
      status: 409,
      body: { message: "volume is in use" },
    }));
    const error = await engine.removeVolume("data").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExternalCommandError);
    expect(error).toBeInstanceOf(VaultHaError);
    expect((error as Error).message).toContain("volume is in use");
  });

  it("takes a 404 on removal as already gone", async () => {
    const { engine, requests } = await fakeEngine(() => ({
      status: 404,
      body: { message: "no such object" },
    }));
    await engine.removeContainer("abc");
    await engine.removeNetwork("net");
    await engine.removeVolume("vol");
    expect(requests.map((seen) => `${seen.method} ${seen.path}`)).toEqual([
      "DELETE /containers/abc",
      "DELETE /networks/net",
      "DELETE /volumes/vol",
    ]);
    expect(requests[0]?.query.get("force")).toBe("true");
    expect(requests[0]?.query.get("v")).toBe("true");
  });
});

const listed = (id: string, labels: Record<string, string>) => ({
  Id: id,
  Names: [`/${id}-name`],
  Image: "vault-ha/vault:1.21",
  ImageID: "sha256:1",
  Command: "",
  Created: 1_764_000_000,
  Ports: [{ IP: "0.0.0.0", PrivatePort: 8200, PublicPort: 32768, Type: "tcp" }],
  Labels: labels,
  State: "running",
  Status: "Up 3 seconds (healthy)",
});

describe("listing by labels", () => {
  it("sends only the first label to the engine and checks the rest itself", async () => {
    const { engine, requests } = await fakeEngine(() => ({
      status: 200,
      // What Podman answers: the OR of both label filters.
      body: [
        listed("both", { a: "1", b: "2", "com.docker.compose.service": "vault-1" }),
        listed("only-a", { a: "1" }),
      ],
    }));
    const containers = await engine.listContainers({ a: "1", b: "2" }, { all: true });
    expect(labelFilters(requests[0])).toEqual(["a=1"]);
    expect(requests[0]?.query.get("all")).toBe("true");
    expect(containers).toEqual([
      {
        id: "both",
        name: "both-name",
        service: "vault-1",
        state: "running",
        health: "healthy",
        publishedPorts: new Map([[8200, 32768]]),
        labels: { a: "1", b: "2", "com.docker.compose.service": "vault-1" },
        created: 1_764_000_000,
        image: "vault-ha/vault:1.21",
      },
    ]);
  });

  it("lists a Compose project's containers, stopped ones included", async () => {
    const { engine, requests } = await fakeEngine(() => ({ status: 200, body: [] }));
    await engine.listProjectContainers("demo");
    expect(labelFilters(requests[0])).toEqual(["com.docker.compose.project=demo"]);
    expect(requests[0]?.query.get("all")).toBe("true");
  });

  it("applies the same rule to networks and volumes", async () => {
    const { engine, requests } = await fakeEngine((seen) =>
      seen.path === "/networks"
        ? {
            status: 200,
            body: [
              { Id: "n1", Name: "demo_default", Labels: { a: "1", b: "2" } },
              { Id: "n2", Name: "other", Labels: { a: "1" } },
            ],
          }
        : {
            status: 200,
            body: {
              Volumes: [
                { Name: "v1", Labels: { a: "1", b: "2" } },
                { Name: "v2", Labels: null },
              ],
              Warnings: [],
            },
          },
    );
    expect(await engine.listNetworks({ a: "1", b: "2" })).toEqual([
      { id: "n1", name: "demo_default", labels: { a: "1", b: "2" } },
    ]);
    expect(await engine.listVolumes({ a: "1", b: "2" })).toEqual([
      { name: "v1", labels: { a: "1", b: "2" } },
    ]);
    expect(requests.map(labelFilters)).toEqual([["a=1"], ["a=1"]]);
  });
});

describe("engine info", () => {
  it("reads rootless from SecurityOptions and Podman from the version's components", async () => {
    const { engine } = await fakeEngine((seen) =>
      seen.path === "/info"
        ? {
            status: 200,
            body: {
              ServerVersion: "5.4.0",
              OperatingSystem: "fedora",
              SecurityOptions: ["name=seccomp,profile=default", "name=rootless"],
            },
          }
        : {
            status: 200,
            body: {
              Version: "5.4.0",
              ApiVersion: "1.41",
              Components: [{ Name: "Podman Engine", Version: "5.4.0" }],
            },
          },
    );
    expect(await engine.engineInfo()).toEqual({
      serverVersion: "5.4.0",
      apiVersion: "1.41",
      operatingSystem: "fedora",
      rootless: true,
      podman: true,
    });
  });

  it("sees a rootful Docker Engine as neither", async () => {
    const { engine } = await fakeEngine((seen) =>
      seen.path === "/info"
        ? {
            status: 200,
            body: {
              ServerVersion: "28.1.1",
              OperatingSystem: "Ubuntu 24.04",
              SecurityOptions: ["name=apparmor", "name=seccomp,profile=builtin"],
            },
          }
        : {
            status: 200,
            body: { Version: "28.1.1", ApiVersion: "1.49", Components: [{ Name: "Engine" }] },
          },
    );
    expect(await engine.engineInfo()).toMatchObject({ rootless: false, podman: false });
  });
});
