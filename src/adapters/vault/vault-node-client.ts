import createNodeVault from "node-vault";
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

/**
 * node-vault's request layer, replaced by fetch: every call gets a timeout
 * (node-vault has none), redirects are errors rather than followed (a
 * standby redirects to the leader's container address, which the host cannot
 * resolve), and a request carries no header vault-ha did not choose. The
 * defaults node-vault passes in (strictSSL from VAULT_SKIP_VERIFY) are
 * ignored for the same reason.
 */
function fetchRequester(timeoutMs: number) {
  const request = async (options: RequestOptions) => {
    const describe = `${options.method} ${options.uri}`;
    const hasBody = options.json !== undefined && typeof options.json === "object";
    let response: Response;
    try {
      response = await fetch(options.uri, {
        method: options.method,
        headers: {
          ...(options.vaultHaToken !== undefined ? { "X-Vault-Token": options.vaultHaToken } : {}),
          ...(hasBody ? { "content-type": "application/json" } : {}),
        },
        body: hasBody ? JSON.stringify(options.json) : undefined,
        redirect: "manual",
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      // fetch says "fetch failed"; the cause says why (ECONNREFUSED, bad port).
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason =
        (error as Error).name === "TimeoutError"
          ? `no answer within ${timeoutMs} ms`
          : (cause?.code ?? cause?.message ?? (error as Error).message);
      throw new VaultUnreachableError(`${describe}: ${reason}`, { cause: error });
    }
    if (response.status >= 300 && response.status < 400) {
      throw new VaultUnreachableError(
        `${describe}: redirected to ${response.headers.get("location") ?? "?"} (a standby that cannot forward)`,
      );
    }
    const text = await response.text();
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
function isolatedNodeVault(url: string, timeoutMs: number): createNodeVault.client {
  const client = createNodeVault({
    endpoint: url,
    debug: () => {},
    "request-promise": fetchRequester(timeoutMs),
  });
  return Object.assign(client, {
    // Set again: an empty `url` would have let VAULT_ADDR in.
    endpoint: url.replace(/\/$/, ""),
    token: undefined,
    namespace: undefined,
    pathPrefix: "",
  });
}

export function createVaultNodeClient(url: string, timeoutMs = 2_000): VaultNodeClient {
  const vault = isolatedNodeVault(url, timeoutMs);
  const patient = isolatedNodeVault(url, Math.max(timeoutMs, STATE_CHANGE_TIMEOUT_MS));
  const withToken = (token: string): Pick<RequestOptions, "vaultHaToken"> => ({
    vaultHaToken: token,
  });
  return {
    url,
    async health() {
      // node-vault resolves sys/health's state codes (429 standby, 501
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
