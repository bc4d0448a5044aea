import {
  LABEL_EPHEMERAL,
  LABEL_OWNER_HOST,
  LABEL_OWNER_PID,
  LABEL_REUSE,
  LABEL_SESSION,
  LABEL_STARTED,
} from "./labels.js";

/**
 * An ephemeral cluster's session: who owns it, so that a cluster whose owner
 * died (SIGKILL, an OOM-killed test worker, a closed laptop lid) can be found
 * and removed by `vault-ha prune`, by `startCluster`'s pre-start prune and by
 * the watchdog, and nothing else ever is.
 */
export interface Session {
  readonly id: string;
  readonly ownerPid: number;
  readonly ownerHost: string;
  readonly startedAt: string;
  /** Set for a reusable cluster: its configuration's hash. It has no owner process. */
  readonly reuse?: string | undefined;
}

export function sessionLabels(session: Session): Record<string, string> {
  return {
    [LABEL_EPHEMERAL]: "true",
    [LABEL_SESSION]: session.id,
    [LABEL_OWNER_PID]: String(session.ownerPid),
    [LABEL_OWNER_HOST]: session.ownerHost,
    [LABEL_STARTED]: session.startedAt,
    ...(session.reuse ? { [LABEL_REUSE]: session.reuse } : {}),
  };
}

/** Reads a session back from a resource's labels; undefined when it has none. */
export function sessionFromLabels(labels: Readonly<Record<string, string>>): Session | undefined {
  const id = labels[LABEL_SESSION];
  if (!id) return undefined;
  const ownerPid = Number.parseInt(labels[LABEL_OWNER_PID] ?? "", 10);
  return {
    id,
    ownerPid: Number.isInteger(ownerPid) ? ownerPid : -1,
    ownerHost: labels[LABEL_OWNER_HOST] ?? "",
    startedAt: labels[LABEL_STARTED] ?? "",
    ...(labels[LABEL_REUSE] ? { reuse: labels[LABEL_REUSE] } : {}),
  };
}

export type PruneVerdict =
  | { readonly prune: true; readonly reason: string }
  | { readonly prune: false; readonly reason: string };

/**
 * Whether a session's cluster is garbage. Its owner is gone when it ran on
 * this host and its process no longer exists; an owner on another host (a
 * shared remote engine) cannot be checked from here, so only age removes it.
 */
export function pruneVerdict(
  session: Session,
  here: {
    host: string;
    now: Date;
    isAlive: (pid: number) => boolean;
    olderThanMs?: number;
    /** Also prune reusable clusters (`prune --reuse`). */
    reuse?: boolean;
  },
): PruneVerdict {
  const started = Date.parse(session.startedAt);
  const ageMs = Number.isNaN(started) ? Number.POSITIVE_INFINITY : here.now.getTime() - started;
  if (here.olderThanMs !== undefined && ageMs >= here.olderThanMs) {
    return { prune: true, reason: `started ${formatAge(ageMs)} ago` };
  }
  if (session.reuse !== undefined) {
    return here.reuse
      ? { prune: true, reason: "reusable cluster (--reuse)" }
      : { prune: false, reason: "reusable cluster, kept for the next run; --reuse removes it" };
  }
  if (session.ownerHost !== here.host) {
    return { prune: false, reason: `owned by a process on ${session.ownerHost || "another host"}` };
  }
  if (session.ownerPid > 0 && here.isAlive(session.ownerPid)) {
    return { prune: false, reason: `owner process ${session.ownerPid} is running` };
  }
  return { prune: true, reason: `owner process ${session.ownerPid} is gone` };
}

export function formatAge(ms: number): string {
  if (!Number.isFinite(ms)) return "an unknown time";
  const seconds = Math.round(ms / 1000);
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return `${minutes}m`;
  return `${Math.round(minutes / 60)}h`;
}

/** `90s`, `15m`, `2h`, `1d` → milliseconds; undefined when it is not one of those. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)(s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as "s"];
  return Number(match[1]) * unit;
}
