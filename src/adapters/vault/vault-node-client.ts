import createNodeVault from "node-vault";

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

/** One Vault node's HTTP API, reached through its own host port. */
export interface VaultNodeClient {
  readonly url: string;
  health(): Promise<VaultHealth>;
  init(shares: number, threshold: number): Promise<InitResult>;
  /** Returns whether the node is still sealed after this key. */
  unseal(key: string): Promise<{ sealed: boolean; progress: number }>;
  leader(): Promise<VaultLeader>;
  stepDown(token: string): Promise<void>;
  seal(token: string): Promise<void>;
  write(path: string, data: unknown, token: string): Promise<unknown>;
  read(path: string, token: string): Promise<unknown>;
}

/** The node did not answer in time, refused the connection, or answered with a redirect. */
export class VaultUnreachableError extends Error {
  override name = "VaultUnreachableError";
}

/** The node answered with an error status. */
export class VaultApiError extends Error {
  override name = "VaultApiError";
  constructor(
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
  }
}

interface RequestOptions {
  method: string;
  uri: string;
  headers?: Record<string, string>;
  json?: unknown;
}

/**
 * node-vault's request layer, replaced by fetch: every call gets a timeout
 * (node-vault has none), and redirects are errors rather than followed (a
 * standby redirects to the leader's container address, which the host cannot
 * resolve).
 */
function fetchRequester(timeoutMs: number) {
  const request = async (options: RequestOptions) => {
    let response: Response;
    try {
      response = await fetch(options.uri, {
        method: options.method,
        headers: {
          ...options.headers,
          ...(options.json !== undefined && typeof options.json === "object"
            ? { "content-type": "application/json" }
            : {}),
        },
        body:
          options.json !== undefined && typeof options.json === "object"
            ? JSON.stringify(options.json)
            : undefined,
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      const reason =
        (error as Error).name === "TimeoutError"
          ? `no answer within ${timeoutMs} ms`
          : (cause ?? (error as Error).message);
      throw new VaultUnreachableError(`${options.method} ${options.uri}: ${reason}`);
    }
    if (response.status >= 300 && response.status < 400) {
      throw new VaultUnreachableError(
        `${options.method} ${options.uri}: redirected to ${response.headers.get("location") ?? "?"} (a standby that cannot forward)`,
      );
    }
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      // Keep the text: it becomes the error message below.
    }
    return { statusCode: response.status, body, request: { path: new URL(options.uri).pathname } };
  };
  return { defaults: () => request };
}

function toApiError(error: unknown): never {
  if (error instanceof VaultUnreachableError) throw error;
  const response = (error as { response?: { statusCode?: number } }).response;
  if (response?.statusCode !== undefined) {
    throw new VaultApiError((error as Error).message, response.statusCode);
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

export function createVaultNodeClient(url: string, timeoutMs = 2_000): VaultNodeClient {
  const client = (budget: number) =>
    createNodeVault({
      endpoint: url,
      "request-promise": fetchRequester(budget),
    } as createNodeVault.VaultOptions);
  const vault = client(timeoutMs);
  const patient = client(Math.max(timeoutMs, STATE_CHANGE_TIMEOUT_MS));
  const withToken = (token: string) => ({ headers: { "X-Vault-Token": token } });
  return {
    url,
    async health() {
      // node-vault resolves sys/health's non-2xx answers (429 standby, 501
      // uninitialised, 503 sealed) with the body; the body carries the state.
      const body = (await vault.health().catch(toApiError)) as Record<string, unknown>;
      if (typeof body.initialized !== "boolean") {
        throw new VaultUnreachableError(`GET ${url}/v1/sys/health: unexpected answer`);
      }
      return {
        initialized: body.initialized,
        sealed: body.sealed === true,
        standby: body.standby === true,
        version: typeof body.version === "string" ? body.version : undefined,
      };
    },
    async init(shares, threshold) {
      // write() rather than init(): the same call could carry recovery_* one day.
      const body = (await patient
        .write("sys/init", { secret_shares: shares, secret_threshold: threshold })
        .catch(toApiError)) as { keys: string[]; keys_base64: string[]; root_token: string };
      return { keys: body.keys, keysBase64: body.keys_base64, rootToken: body.root_token };
    },
    async unseal(key) {
      const body = (await patient.unseal({ key }).catch(toApiError)) as {
        sealed: boolean;
        progress: number;
      };
      return { sealed: body.sealed, progress: body.progress };
    },
    async leader() {
      const body = (await vault.leader().catch(toApiError)) as {
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
      await patient
        .request({ path: "/sys/step-down", method: "PUT", ...withToken(token) })
        .catch(toApiError);
    },
    async seal(token) {
      await patient
        .request({ path: "/sys/seal", method: "PUT", ...withToken(token) })
        .catch(toApiError);
    },
    write: (path, data, token) =>
      patient.write(path, data, withToken(token)).catch(toApiError) as Promise<unknown>,
    read: (path, token) => vault.read(path, withToken(token)).catch(toApiError) as Promise<unknown>,
  };
}
