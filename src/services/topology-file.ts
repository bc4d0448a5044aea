import { readFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../adapters/fs/atomic-write.js";
import type { Config } from "../core/config-schema.js";

/**
 * The shape `up` gave a cluster (tls, seal type, load balancer), recorded in
 * its state folder, so a later `status`, `env` or `seal` that names only the
 * project (an ephemeral cluster's, say) talks to it the way it runs: over
 * TLS, through its balancer, without Shamir keys. A key the user sets
 * explicitly still wins.
 */
export interface RecordedTopology {
  readonly tls: boolean;
  readonly sealType: Config["seal"]["type"];
  readonly loadBalancer: boolean;
}

const FILE = "topology.json";

export async function recordTopology(stateDir: string, config: Config): Promise<void> {
  await mkdir(stateDir, { recursive: true, mode: 0o700 });
  const topology: RecordedTopology = {
    tls: config.tls,
    sealType: config.seal.type,
    loadBalancer: config.loadBalancer.enabled,
  };
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

/** `config` with the recorded shape where the user left a key at its default. */
export function withRecordedTopology(
  config: Config,
  sources: ReadonlyMap<string, string>,
  recorded: RecordedTopology | undefined,
): Config {
  if (!recorded) return config;
  const unset = (key: string) => (sources.get(key) ?? "default") === "default";
  return {
    ...config,
    tls: unset("tls") ? recorded.tls : config.tls,
    seal: unset("seal.type") ? { ...config.seal, type: recorded.sealType } : config.seal,
    loadBalancer: unset("loadBalancer.enabled")
      ? { ...config.loadBalancer, enabled: recorded.loadBalancer }
      : config.loadBalancer,
  };
}
