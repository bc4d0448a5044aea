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
  } as const;
}

/** The same defaults as `--set`-style assignments, for the CLI's flag layer. */
export function ephemeralAssignments(project: string): [string, string][] {
  return [
    ["project", project],
    ["vault.hostPort", "0"],
    ["dynamodb.hostPort", "0"],
    ["dynamodb.inMemory", "true"],
  ];
}

export function newSession(id: string, owner: { pid: number; host: string }, now: Date): Session {
  return { id, ownerPid: owner.pid, ownerHost: owner.host, startedAt: now.toISOString() };
}
