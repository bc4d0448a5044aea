import {
  createServer,
  type IncomingHttpHeaders,
  type Server,
  type ServerResponse,
} from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { ExitCode, VaultHaError } from "../../core/errors.js";
import {
  createVaultNodeClient,
  VaultApiError,
  VaultUnreachableError,
} from "./vault-node-client.js";

interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

type Route = (request: RecordedRequest, response: ServerResponse) => void;

const json = (response: ServerResponse, status: number, body: unknown) => {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
};

/** Answers like a healthy, initialised, active Vault node. */
const activeNode: Route = (request, response) => {
  const path = request.path.split("?")[0];
  if (path === "/v1/sys/health") {
    return json(response, 200, {
      initialized: true,
      sealed: false,
      standby: false,
      version: "1.21.0",
    });
  }
  if (path === "/v1/sys/init") {
    return json(response, 200, { keys: ["k1"], keys_base64: ["azE="], root_token: "hvs.root" });
  }
  if (path === "/v1/sys/unseal") return json(response, 200, { sealed: false, progress: 0 });
  if (path === "/v1/sys/leader") {
    return json(response, 200, {
      ha_enabled: true,
      is_self: true,
      leader_address: "http://vault-1:8200",
    });
  }
  if (path === "/v1/sys/step-down" || path === "/v1/sys/seal") {
    response.writeHead(204);
    return response.end();
  }
  if (path === "/v1/secret/data/x") return json(response, 200, { data: { ok: true } });
  json(response, 404, { errors: [] });
};

let server: Server;
let url: string;
let requests: RecordedRequest[];
let route: Route;

beforeAll(async () => {
  server = createServer((incoming, response) => {
    let body = "";
    incoming.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    incoming.on("end", () => {
      const request = {
        method: incoming.method ?? "",
        path: incoming.url ?? "",
        headers: incoming.headers,
        body,
      };
      requests.push(request);
      route(request, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  requests = [];
  route = activeNode;
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe("a Vault node client in a poisoned environment", () => {
  // node-vault's own `debug` instance: enabling it is what DEBUG=node-vault
  // does when the process starts (debug reads DEBUG once, at load).
  const debug = createRequire(createRequire(import.meta.url).resolve("node-vault"))("debug") as {
    enable(namespaces: string): void;
    disable(): string;
  };

  beforeEach(() => {
    vi.stubEnv("VAULT_TOKEN", "poison-token");
    vi.stubEnv("VAULT_NAMESPACE", "poison-namespace");
    vi.stubEnv("VAULT_PREFIX", "/poison-prefix");
    vi.stubEnv("VAULT_ADDR", "http://127.0.0.1:9");
    vi.stubEnv("VAULT_SKIP_VERIFY", "1");
    vi.stubEnv("DEBUG", "*");
    debug.enable("*");
  });

  afterEach(() => {
    debug.disable();
  });

  it("sends only what vault-ha means: no foreign token, namespace, prefix or log line", async () => {
    const stderr = vi.spyOn(process.stderr, "write");
    const stdout = vi.spyOn(process.stdout, "write");
    const client = createVaultNodeClient(url);

    await client.health();
    await client.init(5, 3);
    await client.unseal("unseal-key-that-must-not-be-logged");
    await client.leader();
    await client.stepDown("explicit-token");
    await client.seal("explicit-token");
    await client.write("secret/data/x", { data: { a: 1 } }, "explicit-token");
    await client.read("secret/data/x", "explicit-token");

    expect(requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      "GET /v1/sys/health",
      "POST /v1/sys/init",
      "PUT /v1/sys/unseal",
      "GET /v1/sys/leader",
      "PUT /v1/sys/step-down",
      "PUT /v1/sys/seal",
      "POST /v1/secret/data/x",
      "GET /v1/secret/data/x",
    ]);
    expect(requests.map((request) => request.headers["x-vault-token"])).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      "explicit-token",
      "explicit-token",
      "explicit-token",
      "explicit-token",
    ]);
    for (const request of requests) {
      expect(request.headers["x-vault-namespace"]).toBeUndefined();
    }
    expect(JSON.parse(requests[2]?.body ?? "")).toEqual({
      key: "unseal-key-that-must-not-be-logged",
    });
    expect(stderr).not.toHaveBeenCalled();
    expect(stdout).not.toHaveBeenCalled();
  });
});

describe("a Vault node client", () => {
  it("maps sys/health's status codes to the node's state", async () => {
    const answers: Record<number, object> = {
      429: { initialized: true, sealed: false, standby: true },
      501: { initialized: false, sealed: true, standby: false },
      503: { initialized: true, sealed: true, standby: false },
    };
    const client = createVaultNodeClient(url);
    const seen: Record<number, object> = {};
    for (const status of [429, 501, 503]) {
      route = (_request, response) => json(response, status, answers[status]);
      const { initialized, sealed, standby } = await client.health();
      seen[status] = { initialized, sealed, standby };
    }
    expect(seen).toEqual(answers);
  });

  it("treats a redirect as an error and does not follow it", async () => {
    route = (request, response) => {
      if (request.path.startsWith("/followed")) return json(response, 200, {});
      response.writeHead(307, { location: `${url}/followed/v1/sys/leader` });
      response.end();
    };
    const error = await createVaultNodeClient(url)
      .leader()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VaultUnreachableError);
    expect((error as Error).message).toContain("redirected");
    expect(requests.map((request) => request.path)).toEqual(["/v1/sys/leader"]);
  });

  it("gives up on a node that does not answer, naming the budget", async () => {
    route = () => {
      // Never answers.
    };
    const started = performance.now();
    const error = await createVaultNodeClient(url, 150)
      .health()
      .catch((caught: unknown) => caught);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(error).toBeInstanceOf(VaultUnreachableError);
    expect((error as Error).message).toContain("no answer within 150 ms");
    expect((error as VaultHaError).exitCode).toBe(ExitCode.clusterNotHealthy);
  });

  it("reports a refused connection as unreachable, in the taxonomy", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const error = await createVaultNodeClient(`http://127.0.0.1:${port}`)
      .health()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VaultUnreachableError);
    expect(error).toBeInstanceOf(VaultHaError);
    expect((error as Error).message).toContain("ECONNREFUSED");
    expect((error as Error).cause).toBeDefined();
  });

  it("maps an error status to VaultApiError in the taxonomy, with Vault's reason", async () => {
    route = (_request, response) => json(response, 403, { errors: ["permission denied"] });
    const error = await createVaultNodeClient(url)
      .stepDown("bad-token")
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VaultApiError);
    expect(error).toBeInstanceOf(VaultHaError);
    expect(error).toMatchObject({ statusCode: 403, exitCode: ExitCode.clusterNotHealthy });
    expect((error as Error).message).toContain("permission denied");
    expect((error as Error).message).toContain("/v1/sys/step-down");
  });

  it("maps a 500 without a JSON body to VaultApiError", async () => {
    route = (_request, response) => {
      response.writeHead(500);
      response.end("boom");
    };
    const error = await createVaultNodeClient(url)
      .leader()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VaultApiError);
    expect(error).toMatchObject({ statusCode: 500, exitCode: ExitCode.clusterNotHealthy });
  });
});
