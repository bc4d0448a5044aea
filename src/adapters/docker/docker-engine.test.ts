import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createNetServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import Modem from "docker-modem";
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

describe("removing a replaced image", () => {
  it("takes Engine 20.10's 500 for an image another cluster just removed as gone, and no other 500", async () => {
    const { engine } = await fakeEngine((seen) => ({
      status: 500,
      body: {
        message: seen.path.endsWith("/gone") ? "unrecognized image ID sha256:gone" : "disk full",
      },
    }));
    await engine.removeImageIfUnused("gone");
    await expect(engine.removeImageIfUnused("full")).rejects.toBeInstanceOf(DockerUnavailableError);
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

describe("the wire, compared with dockerode", () => {
  interface Exchange {
    readonly request: string;
    readonly body: string;
    readonly contentType: string | undefined;
  }

  /** Records every request in full; answers each the way a Docker Engine does. */
  async function recordingEngine(): Promise<Exchange[]> {
    const exchanges: Exchange[] = [];
    await listen(
      createServer((request: IncomingMessage, response: ServerResponse) => {
        let body = "";
        request.on("data", (chunk: Buffer) => {
          body += chunk.toString();
        });
        request.on("end", () => {
          exchanges.push({
            request: `${request.method} ${request.url}`,
            body,
            contentType: request.headers["content-type"],
          });
          const path = new URL(request.url ?? "/", "http://engine").pathname;
          if (request.method === "GET") {
            const body =
              path === "/volumes"
                ? { Volumes: [] }
                : path.endsWith("/json") && path.startsWith("/images/")
                  ? { Id: "sha256:1" }
                  : path === "/_ping"
                    ? "OK"
                    : path === "/info" || path === "/version"
                      ? {}
                      : [];
            response.writeHead(200, { "content-type": "application/json" });
            response.end(JSON.stringify(body));
          } else if (request.method === "DELETE" && path.startsWith("/images/")) {
            response.writeHead(200, { "content-type": "application/json" });
            response.end("[]");
          } else {
            response.writeHead(204);
            response.end();
          }
        });
      }),
    );
    return exchanges;
  }

  it("sends every call exactly as dockerode's method of the same name did", async () => {
    const exchanges = await recordingEngine();
    const engine = createDockerEngine({ modem: new Modem({ socketPath }) });
    const labels = { "com.docker.compose.project": "demo", b: "2" };
    const filters = { label: ["com.docker.compose.project=demo"] };
    const ours = async () => {
      await engine.ping();
      await engine.engineInfo();
      await engine.listContainers(labels);
      await engine.listProjectContainers("demo");
      await engine.containersPublishing(8200);
      await engine.removeContainer("c1");
      await engine.imageId("vault-ha/vault:1.21.1");
      await engine.listVolumes(labels);
      await engine.removeVolume("v1");
      await engine.removeImageIfUnused("sha256:abc");
      await engine.listNetworks(labels);
      await engine.removeNetwork("n1");
      await engine.stopContainer("c1", 7);
      await engine.startContainer("c1");
      await engine.killContainer("c1");
    };
    // What the adapter called before, with the same arguments.
    const docker = new Docker({ socketPath });
    const abortSignal = new AbortController().signal;
    const dockerode = async () => {
      const calls = docker as unknown as {
        ping(options: object): Promise<unknown>;
        info(options: object): Promise<unknown>;
        version(options: object): Promise<unknown>;
      };
      await calls.ping({ abortSignal });
      await Promise.all([calls.info({ abortSignal }), calls.version({ abortSignal })]);
      await docker.listContainers({ all: false, filters, abortSignal });
      await docker.listContainers({ all: true, filters, abortSignal });
      // Running containers, unfiltered: Podman has no `publish` filter.
      await docker.listContainers({ abortSignal });
      await docker.getContainer("c1").remove({ force: true, v: true, abortSignal });
      await docker.getImage("vault-ha/vault:1.21.1").inspect();
      await docker.listVolumes({ filters, abortSignal });
      await docker.getVolume("v1").remove({ abortSignal });
      await docker.getImage("sha256:abc").remove({ abortSignal });
      await docker.listNetworks({ filters, abortSignal });
      await docker.getNetwork("n1").remove({ abortSignal });
      await docker.getContainer("c1").stop({ t: 7, abortSignal });
      await docker.getContainer("c1").start({ abortSignal });
      await docker.getContainer("c1").kill({ abortSignal });
    };
    await ours();
    const sent = exchanges.splice(0);
    await dockerode();
    // info and version go out together; their order on the wire is not fixed.
    const sorted = (list: Exchange[]) =>
      [...list].sort((a, b) => (a.request < b.request ? -1 : a.request > b.request ? 1 : 0));
    expect(sent).toHaveLength(16);
    expect(sorted(sent)).toEqual(sorted(exchanges));
    expect(sent.map((exchange) => exchange.request)).toContain("POST /containers/c1/stop?t=7");
  });

  it("reads DOCKER_HOST when given no connection, like dockerode", async () => {
    const exchanges = await recordingEngine();
    vi.stubEnv("DOCKER_HOST", `unix://${socketPath}`);
    await createDockerEngine().ping();
    expect(exchanges.map((exchange) => exchange.request)).toEqual(["GET /_ping"]);
  });

  it("maps a start of a running container (304) to a failed external command, as before", async () => {
    const { engine } = await fakeEngine(() => ({ status: 304 }));
    const error = await engine.startContainer("c1").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ExternalCommandError);
    expect((error as Error).message).toContain("HTTP 304");
  });

  it("closes the connection of an image inspect that ran out of time", async () => {
    // Reads the request (so it sees the connection close), never answers.
    await listen(createNetServer((socket) => socket.resume()));
    const engine = createDockerEngine({ modem: new Modem({ socketPath }) }, { timeoutMs: 200 });
    const error = await engine.imageId("vault:latest").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DockerUnavailableError);
    await vi.waitFor(() => expect(sockets.size).toBe(0), { timeout: 1_000 });
  });
});
