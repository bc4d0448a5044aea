import http, { type IncomingHttpHeaders } from "node:http";
import type createNodeVault from "node-vault";
import { ExitCode, VaultHaError } from "../../core/errors.js";

/** What a node says about itself on sys/health (answered by the node, never forwarded). */
export interface VaultHealth {
  readonly initialized: boolean;
  readonly sealed: boolean;
  readonly standby: boolean;
  readonly version: string | undefined;
}

export interface VaultLeader {
  readonly haEnabled: boolean;
  readonly isSelf: boolean;
  /** The leader's api_addr, as other nodes reach it (http://vault-N:8200). */
  readonly leaderAddress: string;
}

export interface InitResult {
  readonly keys: readonly string[];
  readonly keysBase64: readonly string[];
  readonly rootToken: string;
}

export interface VaultClientOptions {
  /** PEM of the CA that signed the node's certificate (tls: true). */
  readonly ca?: string;
  /**
   * Budget of calls that change state (default STATE_CHANGE_TIMEOUT_MS).
   * A workload that must notice a frozen node quickly sets it short.
   */
  readonly stateChangeTimeoutMs?: number;
}

/** One Vault node's HTTP API, reached through its own host port. */
export interface VaultNodeClient {
  readonly url: string;
  health(): Promise<VaultHealth>;
  /** `recovery`: the cluster auto-unseals, so Vault makes recovery keys. */
  init(shares: number, threshold: number, options?: { recovery?: boolean }): Promise<InitResult>;
  /** Returns whether the node is still sealed after this key. */
  unseal(key: string): Promise<{ sealed: boolean; progress: number }>;
  leader(): Promise<VaultLeader>;
  stepDown(token: string): Promise<void>;
  seal(token: string): Promise<void>;
  write(path: string, data: unknown, token: string): Promise<unknown>;
  read(path: string, token: string): Promise<unknown>;
  /** Any call (`path` without /v1); the answer's body, 204 as `{}`. */
  request(method: string, path: string, token: string, body?: unknown): Promise<unknown>;
}

/**
 * A node that does not answer, or refuses what a cluster operation asks,
 * leaves the cluster short of the state the command promised: exit 4, like
 * any other unhealthy cluster. That holds for a 4xx on a state-changing call
 * too (step-down or seal with a token Vault rejects): the token comes from
 * vault-ha's own key store, so the fix is in the cluster (`vault-ha status`,
 * `vault-ha reset`), not in a flag the user typed (usage, 2).
 */
const VAULT_EXIT_CODE = ExitCode.clusterNotHealthy;

/** The node did not answer in time, refused the connection, or answered with a redirect. */
export class VaultUnreachableError extends VaultHaError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, VAULT_EXIT_CODE, [], options);
  }
}

/** The node answered with an error status. */
export class VaultApiError extends VaultHaError {
  constructor(
    message: string,
    readonly statusCode: number,
    options?: ErrorOptions,
  ) {
    super(message, VAULT_EXIT_CODE, [], options);
  }
}

/** What node-vault hands its request layer, plus the one field vault-ha adds. */
interface RequestOptions {
  method: string;
  uri: string;
  json?: unknown;
  /**
   * The token this call carries, set only by this module. node-vault's own
   * `headers` are ignored: it fills them from VAULT_TOKEN and VAULT_NAMESPACE.
   */
  vaultHaToken?: string;
}

/**
 * sys/health answers a node's state with these codes (standby, DR and
 * performance standby, uninitialised, sealed); any other error is an error.
 */
const HEALTH_STATE_CODES = new Set([429, 472, 473, 501, 503]);

function vaultReason(body: unknown): string {
  const errors = (body as { errors?: unknown } | undefined)?.errors;
  if (Array.isArray(errors) && errors.length > 0) return errors.map(String).join("; ");
  if (typeof body === "string" && body.trim()) return body.trim().slice(0, 200);
  return "no reason given";
}

interface RawResponse {
  readonly statusCode: number;
  readonly body: unknown;
  readonly request: { readonly path: string };
}

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

/**
 * One exchange through node:http (node:https for an https URL, loaded only
 * then). Not fetch: fetch's HTTP parser (undici's llhttp) is WebAssembly that
 * V8 optimises on background threads as soon as a few responses go through
 * it, and Node waits for that work before it exits. A `vault-ha status` on
 * three nodes spent 60 to 160 ms idle at the end for it, on top of about
 * 50 ms for the first fetch, against about 15 ms for three node:http
 * requests (measured on the 2-core test machine). node:http never follows a
 * redirect; the caller decides what a 3xx means. No connection is kept for
 * reuse (`agent: false`): a pooled socket the node closed while idle would
 * fail the next poll and show a healthy node as down, and a new connection
 * to the host port costs well under a millisecond.
 */
async function exchange(
  uri: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  signal: AbortSignal,
  ca: string | undefined,
): Promise<Answer> {
  const transport = uri.protocol === "https:" ? await import("node:https") : http;
  return new Promise<Answer>((resolve, reject) => {
    const request = transport.request(
      uri,
      {
        method,
        agent: false,
        // The cluster's own CA (tls: true); verification stays on.
        ...(ca !== undefined && uri.protocol === "https:" ? { ca } : {}),
        headers:
          body === undefined ? headers : { ...headers, "content-length": Buffer.byteLength(body) },
        signal,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", reject);
        // A connection cut before the body ends is an error, not a short answer.
        response.on("close", () => {
          if (!response.complete)
            reject(signal.reason ?? new Error("the connection closed mid-answer"));
        });
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

/**
 * One request: a timeout (node-vault has none), redirects are errors rather
 * than followed (a standby redirects to the leader's container address,
 * which the host cannot resolve), and no header vault-ha did not choose. An
 * error status throws, except sys/health's state codes, which resolve with
 * the body like any answer.
 */
function vaultRequest(timeoutMs: number, ca?: string) {
  return async (options: RequestOptions): Promise<RawResponse> => {
    const describe = `${options.method} ${options.uri}`;
    const hasBody = options.json !== undefined && typeof options.json === "object";
    const signal = AbortSignal.timeout(timeoutMs);
    let response: Answer;
    try {
      response = await exchange(
        new URL(options.uri),
        options.method,
        {
          ...(options.vaultHaToken !== undefined ? { "X-Vault-Token": options.vaultHaToken } : {}),
          ...(hasBody ? { "content-type": "application/json" } : {}),
        },
        hasBody ? JSON.stringify(options.json) : undefined,
        signal,
        ca,
      );
    } catch (error) {
      // The code says why (ECONNREFUSED, ENOTFOUND); a timeout aborts the request.
      const reason =
        signal.aborted && (signal.reason as Error | undefined)?.name === "TimeoutError"
          ? `no answer within ${timeoutMs} ms`
          : ((error as { code?: string }).code ?? (error as Error).message);
      throw new VaultUnreachableError(`${describe}: ${reason}`, { cause: error });
    }
    if (response.status >= 300 && response.status < 400) {
      throw new VaultUnreachableError(
        `${describe}: redirected to ${response.headers.location ?? "?"} (a standby that cannot forward)`,
      );
    }
    const { text } = response;
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      // Keep the text: it becomes the error message below.
    }
    const path = new URL(options.uri).pathname;
    const healthState = path.endsWith("/sys/health") && HEALTH_STATE_CODES.has(response.status);
    if (response.status >= 400 && !healthState) {
      throw new VaultApiError(
        `${describe}: Vault answered ${response.status}: ${vaultReason(body)}`,
        response.status,
      );
    }
    return { statusCode: response.status, body, request: { path } };
  };
}

/**
 * node-vault's request layer, replaced by vaultRequest. The defaults
 * node-vault passes in (strictSSL from VAULT_SKIP_VERIFY) are ignored, like
 * every other header and option vault-ha did not choose.
 */
function requester(timeoutMs: number, ca?: string) {
  const request = vaultRequest(timeoutMs, ca);
  return { defaults: () => request };
}

/** What node-vault itself rejects with (a 2xx other than 200 and 204). */
function toApiError(error: unknown): never {
  if (error instanceof VaultHaError) throw error;
  const response = (error as { response?: { statusCode?: number } }).response;
  if (response?.statusCode !== undefined) {
    throw new VaultApiError((error as Error).message, response.statusCode, { cause: error });
  }
  throw error;
}

/**
 * Polls (health, leader) must fail fast so a frozen node cannot stall a
 * snapshot. Calls that change state get a long budget: a `sys/init` that times
 * out on our side may still succeed on Vault's, and its answer is the only
 * copy of the keys (seen: init takes over 2 s while two clusters start on 2 cores).
 */
export const STATE_CHANGE_TIMEOUT_MS = 60_000;

/**
 * A node-vault client that reads nothing from the caller's environment. At
 * creation node-vault takes the token, namespace and path prefix from
 * VAULT_TOKEN, VAULT_NAMESPACE and VAULT_PREFIX whenever the config leaves
 * them empty (an empty string counts as empty), so they are cleared after
 * creation; and its default logger prints request bodies, unseal keys
 * included, when DEBUG=node-vault, so it gets a silent one.
 */
function isolatedNodeVault(
  create: typeof createNodeVault,
  url: string,
  timeoutMs: number,
  ca: string | undefined,
): createNodeVault.client {
  const client = create({
    endpoint: url,
    debug: () => {},
    "request-promise": requester(timeoutMs, ca),
  });
  return Object.assign(client, {
    // Set again: an empty `url` would have let VAULT_ADDR in.
    endpoint: url.replace(/\/$/, ""),
    token: undefined,
    namespace: undefined,
    pathPrefix: "",
  });
}

/** node-vault's own answer rule: only 200 and 204 are success (sys/health aside). */
function vaultAnswer({ statusCode, body }: RawResponse): unknown {
  if (statusCode === 200 || statusCode === 204) return body;
  const errors = (body as { errors?: unknown } | null)?.errors;
  const message =
    Array.isArray(errors) && errors.length > 0 ? String(errors[0]) : `Status ${statusCode}`;
  throw new VaultApiError(message, statusCode);
}

/**
 * The polls (health, leader) skip node-vault: they run on every `status`,
 * `up` and dashboard tick, and node-vault (with axios, tv4 and mustache)
 * costs about 85 ms to load, far more than the poll itself. It is imported
 * on the first call that changes state, which are rare and slow anyway. Both
 * paths go through vaultRequest, so they time out, refuse redirects and map
 * errors alike.
 */
export function createVaultNodeClient(
  url: string,
  timeoutMs = 2_000,
  options: VaultClientOptions = {},
): VaultNodeClient {
  const { ca } = options;
  const endpoint = url.replace(/\/$/, "");
  const poll = vaultRequest(timeoutMs, ca);
  let clients:
    | Promise<{ vault: createNodeVault.client; patient: createNodeVault.client }>
    | undefined;
  const nodeVault = () => {
    clients ??= import("node-vault").then(({ default: create }) => ({
      vault: isolatedNodeVault(create, url, timeoutMs, ca),
      patient: isolatedNodeVault(
        create,
        url,
        options.stateChangeTimeoutMs ?? Math.max(timeoutMs, STATE_CHANGE_TIMEOUT_MS),
        ca,
      ),
    }));
    return clients;
  };
  const withToken = (token: string): Pick<RequestOptions, "vaultHaToken"> => ({
    vaultHaToken: token,
  });
  return {
    url,
    async health() {
      // sys/health's state codes (429 standby, 501 uninitialised, 503
      // sealed) resolve with the body; the body carries the state.
      const { body } = await poll({ method: "GET", uri: `${endpoint}/v1/sys/health` });
      const fields = (typeof body === "object" && body !== null ? body : {}) as Record<
        string,
        unknown
      >;
      if (typeof fields.initialized !== "boolean") {
        throw new VaultUnreachableError(`GET ${url}/v1/sys/health: unexpected answer`);
      }
      return {
        initialized: fields.initialized,
        sealed: fields.sealed === true,
        standby: fields.standby === true,
        version: typeof fields.version === "string" ? fields.version : undefined,
      };
    },
    async init(shares, threshold, initOptions = {}) {
      const { patient } = await nodeVault();
      // With auto-unseal Vault makes recovery keys instead of unseal keys.
      const request = initOptions.recovery
        ? { recovery_shares: shares, recovery_threshold: threshold }
        : { secret_shares: shares, secret_threshold: threshold };
      const body = (await patient.write("sys/init", request).catch(toApiError)) as {
        keys: string[];
        keys_base64: string[];
        recovery_keys?: string[];
        recovery_keys_base64?: string[];
        root_token: string;
      };
      return initOptions.recovery
        ? {
            keys: body.recovery_keys ?? [],
            keysBase64: body.recovery_keys_base64 ?? [],
            rootToken: body.root_token,
          }
        : { keys: body.keys, keysBase64: body.keys_base64, rootToken: body.root_token };
    },
    async unseal(key) {
      const { patient } = await nodeVault();
      const body = (await patient.unseal({ key }).catch(toApiError)) as {
        sealed: boolean;
        progress: number;
      };
      return { sealed: body.sealed, progress: body.progress };
    },
    async leader() {
      const body = vaultAnswer(await poll({ method: "GET", uri: `${endpoint}/v1/sys/leader` })) as {
        ha_enabled: boolean;
        is_self: boolean;
        leader_address: string;
      };
      return {
        haEnabled: body.ha_enabled,
        isSelf: body.is_self,
        leaderAddress: body.leader_address,
      };
    },
    async stepDown(token) {
      const { patient } = await nodeVault();
      await patient
        .request({ path: "/sys/step-down", method: "PUT", ...withToken(token) })
        .catch(toApiError);
    },
    async seal(token) {
      const { patient } = await nodeVault();
      await patient
        .request({ path: "/sys/seal", method: "PUT", ...withToken(token) })
        .catch(toApiError);
    },
    write: async (path, data, token) => {
      const { patient } = await nodeVault();
      return patient.write(path, data, withToken(token)).catch(toApiError) as Promise<unknown>;
    },
    read: async (path, token) => {
      const { vault } = await nodeVault();
      return vault.read(path, withToken(token)).catch(toApiError) as Promise<unknown>;
    },
    request: async (method, path, token, body) => {
      const { patient } = await nodeVault();
      return patient
        .request({
          path: path.startsWith("/") ? path : `/${path}`,
          method,
          ...(body !== undefined ? { json: body } : {}),
          ...withToken(token),
        })
        .catch(toApiError) as Promise<unknown>;
    },
  };
}
