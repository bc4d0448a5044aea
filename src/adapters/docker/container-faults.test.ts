import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import Modem from "docker-modem";
import Docker from "dockerode";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ExternalCommandError } from "../../core/errors.js";
import { createDockerEngine } from "./docker-engine.js";

// The chaos faults (pause, network disconnect/connect with aliases, inspect)
// against a fake engine on a socket: each sends what dockerode's method of
// the same name sends, and reads the inspect answer right.

interface Seen {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
}

let dir: string;
let server: Server | undefined;

beforeEach(async () => {
  vi.stubEnv("DOCKER_HOST", undefined);
  dir = await mkdtemp(path.join(tmpdir(), "vault-ha-faults-"));
});

afterEach(async () => {
  vi.unstubAllEnvs();
  server?.closeAllConnections();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
  await rm(dir, { recursive: true, force: true });
});

const INSPECT = {
  Id: "c1",
  NetworkSettings: {
    Networks: {
      demo_default: { Aliases: ["vault-2", "c1short"], NetworkID: "n1" },
      other: { Aliases: null },
    },
  },
};

async function fakeEngine(status = 200): Promise<{ requests: Seen[]; socketPath: string }> {
  const socketPath = path.join(dir, "docker.sock");
  const requests: Seen[] = [];
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const url = new URL(request.url ?? "/", "http://engine");
      requests.push({
        method: request.method ?? "",
        path: url.pathname.replace(/^\/v[\d.]+/, ""),
        body: text ? JSON.parse(text) : undefined,
      });
      const answer = url.pathname.endsWith("/json") ? INSPECT : undefined;
      const code =
        status !== 200 ? status : answer ? 200 : request.url?.includes("pause") ? 204 : 200;
      response.writeHead(code, { "content-type": "application/json" });
      response.end(
        code >= 400 ? JSON.stringify({ message: "nope" }) : answer ? JSON.stringify(answer) : "",
      );
    });
  });
  await new Promise<void>((resolve) => server?.listen(socketPath, resolve));
  return { requests, socketPath };
}

describe("container faults", () => {
  it("send what dockerode sends for pause, unpause, inspect, disconnect and connect", async () => {
    const { requests, socketPath } = await fakeEngine();
    const engine = createDockerEngine({ modem: new Modem({ socketPath }) });
    await engine.pauseContainer("c1");
    await engine.unpauseContainer("c1");
    const networks = await engine.containerNetworks("c1");
    await engine.disconnectNetwork("demo_default", "c1");
    await engine.connectNetwork("demo_default", "c1", ["vault-2", "c1short"]);
    const ours = requests.splice(0);

    const docker = new Docker({ socketPath });
    await docker.getContainer("c1").pause();
    await docker.getContainer("c1").unpause();
    await docker.getContainer("c1").inspect();
    await docker.getNetwork("demo_default").disconnect({ Container: "c1", Force: true });
    await docker
      .getNetwork("demo_default")
      .connect({ Container: "c1", EndpointConfig: { Aliases: ["vault-2", "c1short"] } });
    expect(ours).toEqual(requests);
    expect(ours.map((seen) => `${seen.method} ${seen.path}`)).toEqual([
      "POST /containers/c1/pause",
      "POST /containers/c1/unpause",
      "GET /containers/c1/json",
      "POST /networks/demo_default/disconnect",
      "POST /networks/demo_default/connect",
    ]);
    expect(ours[4]?.body).toEqual({
      Container: "c1",
      EndpointConfig: { Aliases: ["vault-2", "c1short"] },
    });
    expect(networks).toEqual([
      { network: "demo_default", aliases: ["vault-2", "c1short"] },
      { network: "other", aliases: [] },
    ]);
  });

  it("report the engine's refusal as an external command failure", async () => {
    const { socketPath } = await fakeEngine(409);
    const engine = createDockerEngine({ modem: new Modem({ socketPath }) });
    await expect(engine.pauseContainer("c1")).rejects.toThrow(ExternalCommandError);
    await expect(engine.pauseContainer("c1")).rejects.toThrow(
      /pause container c1 \(HTTP 409: nope\)/,
    );
  });
});
