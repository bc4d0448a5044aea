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

describe("a Vault node client's polls (health, leader)", () => {
  afterEach(() => {
    vi.doUnmock("node-vault");
    vi.resetModules();
  });

  it("answer without loading node-vault, which the first state change loads", async () => {
    const created: unknown[] = [];
    vi.resetModules();
    vi.doMock("node-vault", async (importOriginal) => {
      const real = (await importOriginal()) as { default: (config: unknown) => unknown };
      return {
        default: (config: unknown) => {
          created.push(config);
          return real.default(config);
        },
      };
    });
    const fresh = await import("./vault-node-client.js");
    const client = fresh.createVaultNodeClient(url);

    expect(await client.health()).toEqual({
      initialized: true,
      sealed: false,
      standby: false,
      version: "1.21.0",
    });
    expect(await client.leader()).toEqual({
      haEnabled: true,
      isSelf: true,
      leaderAddress: "http://vault-1:8200",
    });
    expect(created).toHaveLength(0);

    await client.stepDown("explicit-token");
    await client.seal("explicit-token");
    // One short-budget and one patient client, made once.
    expect(created).toHaveLength(2);
    expect(requests.map((request) => `${request.method} ${request.path}`)).toEqual([
      "GET /v1/sys/health",
      "GET /v1/sys/leader",
      "PUT /v1/sys/step-down",
      "PUT /v1/sys/seal",
    ]);
  });

  it("reads the node's state from every sys/health state code, DR and performance standbys too", async () => {
    const client = createVaultNodeClient(url);
    for (const status of [472, 473]) {
      route = (_request, response) =>
        json(response, status, { initialized: true, sealed: false, standby: true });
      expect(await client.health()).toMatchObject({ initialized: true, standby: true });
    }
  });

  it("calls an answer without the node's state unreachable, whatever its shape", async () => {
    const client = createVaultNodeClient(url);
    for (const answer of ["null", "[]", "<html>hello</html>", '{"sealed":false}']) {
      route = (_request, response) => {
        response.writeHead(200);
        response.end(answer);
      };
      const error = await client.health().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(VaultUnreachableError);
      expect((error as Error).message).toBe(`GET ${url}/v1/sys/health: unexpected answer`);
    }
  });

  it("treats a redirected health check as unreachable and does not follow it", async () => {
    route = (request, response) => {
      if (request.path.startsWith("/followed")) return json(response, 200, {});
      response.writeHead(307, { location: `${url}/followed/v1/sys/health` });
      response.end();
    };
    const error = await createVaultNodeClient(url)
      .health()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VaultUnreachableError);
    expect(requests.map((request) => request.path)).toEqual(["/v1/sys/health"]);
  });

  it("gives up on a leader query that gets no answer, naming the budget", async () => {
    route = () => {
      // Never answers.
    };
    const error = await createVaultNodeClient(url, 150)
      .leader()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VaultUnreachableError);
    expect((error as Error).message).toBe(`GET ${url}/v1/sys/leader: no answer within 150 ms`);
  });

  it("takes only 200 and 204 from sys/leader as an answer, like node-vault", async () => {
    route = (_request, response) => json(response, 202, { ha_enabled: true });
    const error = await createVaultNodeClient(url)
      .leader()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VaultApiError);
    expect(error).toMatchObject({
      message: "Status 202",
      statusCode: 202,
      exitCode: ExitCode.clusterNotHealthy,
    });
  });

  it("maps a sys/health error status that is not a state to VaultApiError", async () => {
    route = (_request, response) => json(response, 500, { errors: ["storage is down"] });
    const error = await createVaultNodeClient(url)
      .health()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VaultApiError);
    expect(error).toMatchObject({ statusCode: 500 });
    expect((error as Error).message).toContain("storage is down");
  });

  it("asks the node under the URL it was given, with or without a trailing slash", async () => {
    await createVaultNodeClient(`${url}/`).health();
    await createVaultNodeClient(`${url}/`).leader();
    expect(requests.map((request) => request.path)).toEqual(["/v1/sys/health", "/v1/sys/leader"]);
  });
});

describe("a Vault node client's transport", () => {
  it("uses node:http, never fetch, for polls and state changes alike", async () => {
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    const client = createVaultNodeClient(url);
    await client.health();
    await client.leader();
    await client.unseal("key");
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(requests).toHaveLength(3);
  });

  it("opens a new connection for every request, so no stale one can fail a poll", async () => {
    const client = createVaultNodeClient(url);
    await client.health();
    await client.health();
    expect(requests.map((request) => request.headers.connection)).toEqual(["close", "close"]);
  });

  it("calls a connection cut in the middle of an answer unreachable", async () => {
    route = (_request, response) => {
      response.writeHead(200, { "content-type": "application/json", "content-length": "100" });
      response.write('{"initialized":');
      setTimeout(() => response.socket?.destroy(), 20);
    };
    const error = await createVaultNodeClient(url)
      .health()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VaultUnreachableError);
    expect((error as Error).message).toContain(`GET ${url}/v1/sys/health: `);
  });

  it("gives up on an answer whose body never ends, naming the budget", async () => {
    route = (_request, response) => {
      response.writeHead(200, { "content-type": "application/json", "content-length": "100" });
      response.write('{"initialized":');
    };
    const error = await createVaultNodeClient(url, 150)
      .health()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(VaultUnreachableError);
    expect((error as Error).message).toBe(`GET ${url}/v1/sys/health: no answer within 150 ms`);
  });

  it("sends a body as JSON with its length", async () => {
    await createVaultNodeClient(url).write("secret/data/x", { data: { a: "é" } }, "t");
    const [request] = requests;
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.headers["content-length"]).toBe(String(Buffer.byteLength(request?.body ?? "")));
    expect(JSON.parse(request?.body ?? "")).toEqual({ data: { a: "é" } });
  });
});
