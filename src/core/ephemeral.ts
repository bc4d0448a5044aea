import { createHash } from "node:crypto";
import type { Config } from "./config-schema.js";
import type { Session } from "./session.js";

/**
 * The one definition of an ephemeral cluster, used by `up --ephemeral` and
 * `startCluster({ ephemeral: true })`: a unique project name, host ports
 * chosen by Docker, and DynamoDB in memory (nothing to leave behind).
 */
export const EPHEMERAL_PROJECT_PREFIX = "vha-";

export function ephemeralProjectName(randomHex: string): string {
  return `${EPHEMERAL_PROJECT_PREFIX}${randomHex}`;
}

/** Configuration values an ephemeral cluster starts from (explicit settings still win). */
export function ephemeralDefaults(project: string) {
  return {
    project,
    vault: { hostPort: 0 },
    dynamodb: { hostPort: 0, inMemory: true },
    loadBalancer: { hostPort: 0 },
    seal: { hostPort: 0 },
  } as const;
}

/** The same defaults as `--set`-style assignments, for the CLI's flag layer. */
export function ephemeralAssignments(project: string): [string, string][] {
  return [
    ["project", project],
    ["vault.hostPort", "0"],
    ["dynamodb.hostPort", "0"],
    ["loadBalancer.hostPort", "0"],
    ["seal.hostPort", "0"],
    ["dynamodb.inMemory", "true"],
  ];
}

export function newSession(id: string, owner: { pid: number; host: string }, now: Date): Session {
  return { id, ownerPid: owner.pid, ownerHost: owner.host, startedAt: now.toISOString() };
}

/**
 * A reusable cluster is found again by its configuration: the project name
 * is a hash of every setting but the project itself, so two runs asking for
 * the same cluster meet, and a different setting never gets a cluster that
 * does not match it. The prefix keeps it apart from any `vault-ha up` project.
 */
export function reuseIdentity(
  config: Config,
  host: string,
  now: Date,
): { readonly project: string; readonly session: Session } {
  const { project: _project, ...settings } = config;
  const hash = createHash("sha256").update(stableJson(settings)).digest("hex").slice(0, 12);
  return {
    project: `${EPHEMERAL_PROJECT_PREFIX}reuse-${hash}`,
    session: {
      id: `reuse-${hash}`,
      ownerPid: 0,
      ownerHost: host,
      startedAt: now.toISOString(),
      reuse: hash,
    },
  };
}

/** JSON with object keys sorted, so equal settings always hash alike. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, child]) => child !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, child]) => `${JSON.stringify(key)}:${stableJson(child)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
