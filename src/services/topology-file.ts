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
  // After `vault-ha upgrade`, every later command runs the upgraded image;
  // a plain `up` never moves a cluster to another release all at once.
  "vault.image",
] as const;

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

export async function recordTopology(stateDir: string, config: Config): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const topology = Object.fromEntries(RECORDED_KEYS.map((key) => [key, get(config, key)]));
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
