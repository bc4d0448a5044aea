import { VaultApiError, type VaultNodeClient } from "./vault-node-client.js";

/**
 * Vault's HTTP API with one token, for the day-2 commands (configure,
 * secrets, init commands): reads that answer `undefined` for a path that
 * does not exist, so callers compare what is there with what they want
 * without catching.
 */
export interface VaultApi {
  /** The node's address, for messages. */
  readonly url: string;
  /** The whole answer (`{ data, ... }`), or undefined for 404. */
  read(path: string): Promise<Record<string, unknown> | undefined>;
  /** The keys under a path (folders end in `/`); empty for 404. */
  list(path: string): Promise<string[]>;
  /** The answer's body (`{}` for 204). */
  write(path: string, body?: Record<string, unknown>): Promise<Record<string, unknown>>;
  delete(path: string): Promise<void>;
}

const asRecord = (value: unknown): Record<string, unknown> =>
  typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};

const trimSlashes = (path: string) => path.replace(/^\/+/, "").replace(/^v1\//, "");

export function vaultApi(client: VaultNodeClient, token: string): VaultApi {
  const call = (method: string, path: string, body?: unknown) =>
    client.request(method, trimSlashes(path), token, body);
  const absentOn404 = async <T>(answer: Promise<T>): Promise<T | undefined> => {
    try {
      return await answer;
    } catch (error) {
      if (error instanceof VaultApiError && error.statusCode === 404) return undefined;
      throw error;
    }
  };
  return {
    url: client.url,
    async read(path) {
      const answer = await absentOn404(call("GET", path));
      return answer === undefined ? undefined : asRecord(answer);
    },
    async list(path) {
      const answer = await absentOn404(
        call("GET", `${trimSlashes(path).replace(/\/$/, "")}?list=true`),
      );
      const keys = asRecord(asRecord(answer).data).keys;
      return Array.isArray(keys) ? keys.map(String) : [];
    },
    async write(path, body) {
      return asRecord(await call("POST", path, body ?? {}));
    },
    async delete(path) {
      await call("DELETE", path);
    },
  };
}
