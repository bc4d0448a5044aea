import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../adapters/fs/atomic-write.js";
import type { Config } from "../core/config-schema.js";

/**
 * The shape `up` gave a cluster, recorded in its state folder: its switches
 * (tls, seal type, load balancer), its node count, and the choices an
 * ephemeral `up` made for it (host ports Docker picks, in-memory DynamoDB).
 * A later command that names only the project (`status`, `env`, `seal`, or an
 * `up` that heals it) then talks to the cluster the way it runs, and
 * re-renders the same Compose file instead of recreating its containers on
 * other ports. A key the user sets explicitly still wins.
 */
export type RecordedTopology = Readonly<Record<string, string | number | boolean>>;

/** Dotted configuration keys that describe how a cluster runs. */
export const RECORDED_KEYS = [
  "nodes",
  "tls",
  "seal.type",
  "seal.hostPort",
  "loadBalancer.enabled",
  "loadBalancer.hostPort",
  "vault.hostPort",
  "dynamodb.hostPort",
  "dynamodb.inMemory",
  "vault.image",
] as const;

/**
 * Keys recorded only once they are known to work: the Vault image, after an
 * `up` that brought the cluster up on it, or by `vault-ha upgrade`. A plain
 * `up` then never moves a cluster to another release all at once, and an
 * `up` that failed on an image nobody has does not pin it for the next one.
 */
const PROVEN_KEYS: ReadonlySet<string> = new Set(["vault.image"]);

const FILE = "topology.json";

const get = (config: Config, key: string): unknown =>
  key
    .split(".")
    .reduce<unknown>((value, part) => (value as Record<string, unknown>)?.[part], config);

function set(config: Config, key: string, value: unknown): Config {
  const [head, tail] = key.split(".") as [string, string | undefined];
  if (tail === undefined) return { ...config, [head]: value };
  const parent = (config as unknown as Record<string, Record<string, unknown>>)[head];
  return { ...config, [head]: { ...parent, [tail]: value } };
}

export async function recordTopology(
  stateDir: string,
  config: Config,
  options: { proven?: boolean } = {},
): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const before = readTopology(stateDir);
  const topology = Object.fromEntries(
    RECORDED_KEYS.flatMap((key) => {
      if (options.proven || !PROVEN_KEYS.has(key)) return [[key, get(config, key)]];
      // Not proven by this call: keep what an earlier success recorded, if anything.
      return before?.[key] !== undefined ? [[key, before[key]]] : [];
    }),
  );
  await writeFileAtomic(path.join(stateDir, FILE), `${JSON.stringify(topology)}\n`, {
    mode: 0o600,
  });
}

export function readTopology(stateDir: string): RecordedTopology | undefined {
  try {
    return JSON.parse(readFileSync(path.join(stateDir, FILE), "utf8")) as RecordedTopology;
  } catch {
    return undefined;
  }
}

/** `config` with the recorded values where the user left a key at its default. */
export function withRecordedTopology(
  config: Config,
  sources: ReadonlyMap<string, string>,
  recorded: RecordedTopology | undefined,
): Config {
  if (!recorded) return config;
  let result = config;
  for (const key of RECORDED_KEYS) {
    const value = recorded[key];
    const unset = (sources.get(key) ?? "default") === "default";
    if (unset && value !== undefined && typeof value === typeof get(config, key)) {
      result = set(result, key, value);
    }
  }
  return result;
}
