import { UsageError } from "./errors.js";

/** The faults `vault-ha chaos` injects, one per round, on the active node (or DynamoDB). */
export const FAULTS = [
  "kill",
  "stop",
  "pause",
  "partition",
  "dynamodb-restart",
  "dynamodb-pause",
  "restart-all",
  "seal",
  "step-down",
] as const;
export type Fault = (typeof FAULTS)[number];

/** What a round does: one fault, or a rolling upgrade (`vault-ha upgrade`) under the same workload. */
export type RoundKind = Fault | "upgrade";

export const DEFAULT_FAULTS: readonly Fault[] = ["kill", "stop", "step-down"];

/**
 * Faults after which no node can be active until `up` heals the cluster:
 * every node restarts sealed (Shamir keys), so the round goes straight to
 * the heal instead of waiting for a failover.
 */
export const HEALED_BEFORE_FAILOVER: readonly Fault[] = ["restart-all"];

/**
 * Vault's DynamoDB lock TTL (its default; vault-ha does not change it). A
 * paused or partitioned active node loses the lock after it.
 */
export const LOCK_TTL_MS = 15_000;

export function parseFaults(text: string | undefined): Fault[] {
  if (text === undefined) return [...DEFAULT_FAULTS];
  const names = text
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name !== "");
  const unknown = names.filter((name) => !(FAULTS as readonly string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new UsageError(
      `unknown fault ${unknown.join(", ") || "(none given)"}; --faults takes a comma-separated list of ${FAULTS.join(", ")}`,
    );
  }
  return [...new Set(names)] as Fault[];
}

/** One observer sample: which nodes claimed to be active, at `t` ms after the run started. */
export interface ObserverSample {
  readonly t: number;
  readonly active: readonly string[];
}

/** A write Vault acknowledged (2xx with a version). */
export interface WriteAck {
  readonly path: string;
  readonly writer: number;
  readonly sequence: number;
  readonly version: number;
  readonly value: string;
  readonly t: number;
  /** The node (or "lb") the write went through. */
  readonly via: string;
}

/** What a read at the end found at an acknowledged write's path; undefined when nothing is there. */
export interface ReadBack {
  readonly value: string | undefined;
  readonly version: number;
  /** Vault's created_time of that version, in ms since the epoch. */
  readonly createdAt: number;
}

export interface RoundWindow {
  readonly fault: RoundKind;
  readonly round: number;
  readonly node: string;
  /** When the round started (steady state), the fault was injected, and steady state came back. */
  readonly startT: number;
  readonly faultT: number;
  readonly endT: number;
}

export interface SplitBrainWindow {
  readonly startT: number;
  readonly endT: number;
  readonly nodes: readonly string[];
}

/**
 * Stretches of samples in which two or more nodes claimed to be active. A
 * window lasts from its first such sample to the first sample after it with
 * at most one (or to its last sample, when the run ended inside it).
 */
export function splitBrainWindows(samples: readonly ObserverSample[]): SplitBrainWindow[] {
  const windows: SplitBrainWindow[] = [];
  let open: { startT: number; lastT: number; nodes: Set<string> } | undefined;
  for (const sample of samples) {
    if (sample.active.length >= 2) {
      open ??= { startT: sample.t, lastT: sample.t, nodes: new Set() };
      open.lastT = sample.t;
      for (const node of sample.active) open.nodes.add(node);
    } else if (open) {
      windows.push({ startT: open.startT, endT: sample.t, nodes: [...open.nodes].sort() });
      open = undefined;
    }
  }
  if (open) windows.push({ startT: open.startT, endT: open.lastT, nodes: [...open.nodes].sort() });
  return windows;
}

/**
 * The longest time inside [from, to] with no event, where events are the
 * times in `times` (sorted or not): the gap a client saw.
 */
export function longestGap(times: readonly number[], from: number, to: number): number {
  const inside = times.filter((t) => t >= from && t <= to).sort((a, b) => a - b);
  let previous = from;
  let longest = 0;
  for (const t of [...inside, to]) {
    longest = Math.max(longest, t - previous);
    previous = t;
  }
  return longest;
}

/** The longest stretch inside [from, to] in which no sample showed an active node. */
export function longestNoActive(samples: readonly ObserverSample[], from: number, to: number) {
  return longestGap(
    samples.filter((sample) => sample.active.length > 0).map((sample) => sample.t),
    from,
    to,
  );
}

/** Nearest-rank percentile (p in 0..100); 0 for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

export interface WriteAccount {
  readonly acknowledged: number;
  /** Acknowledged, and nothing (or an older version) is there now. */
  readonly lost: readonly string[];
  readonly wrongValue: readonly string[];
  /** Vault applied a writer's later write before its earlier one (created_time went back). */
  readonly outOfOrder: readonly string[];
}

/**
 * Every acknowledged write against what a read at the end found. Each path
 * is written once, so the version read must be the one acknowledged.
 */
export function accountWrites(
  acks: readonly WriteAck[],
  readBack: ReadonlyMap<string, ReadBack | undefined>,
): WriteAccount {
  const lost: string[] = [];
  const wrongValue: string[] = [];
  const outOfOrder: string[] = [];
  const lastCreated = new Map<number, number>();
  const ordered = [...acks].sort((a, b) => a.writer - b.writer || a.sequence - b.sequence);
  for (const ack of ordered) {
    const found = readBack.get(ack.path);
    if (!found || found.value === undefined || found.version < ack.version) {
      lost.push(ack.path);
      continue;
    }
    if (found.value !== ack.value || found.version !== ack.version) wrongValue.push(ack.path);
    const before = lastCreated.get(ack.writer);
    if (before !== undefined && found.createdAt < before) outOfOrder.push(ack.path);
    lastCreated.set(ack.writer, Math.max(before ?? 0, found.createdAt));
  }
  return { acknowledged: acks.length, lost, wrongValue, outOfOrder };
}

export interface RoundResult extends RoundWindow {
  /** Longest time after the fault with no acknowledged write, until steady state. */
  readonly writeGapMs: number;
  readonly noActiveMs: number;
  readonly splitBrainMs: number;
  readonly splitBrain: readonly SplitBrainWindow[];
  readonly acknowledged: number;
  readonly lost: number;
  /** What happened, in words (the seal was healed by unseal, the name resolved again...). */
  readonly notes: readonly string[];
}

export function roundResult(
  window: RoundWindow,
  samples: readonly ObserverSample[],
  acks: readonly WriteAck[],
  lostPaths: ReadonlySet<string>,
  notes: readonly string[] = [],
): RoundResult {
  const inRound = (t: number) => t >= window.startT && t <= window.endT;
  const splitBrain = splitBrainWindows(samples.filter((sample) => inRound(sample.t)));
  const roundAcks = acks.filter((ack) => inRound(ack.t));
  return {
    ...window,
    writeGapMs: Math.round(
      longestGap(
        acks.map((ack) => ack.t),
        window.faultT,
        window.endT,
      ),
    ),
    noActiveMs: Math.round(longestNoActive(samples, window.faultT, window.endT)),
    splitBrainMs: Math.round(
      splitBrain.reduce((longest, entry) => Math.max(longest, entry.endT - entry.startT), 0),
    ),
    splitBrain,
    acknowledged: roundAcks.length,
    lost: roundAcks.filter((ack) => lostPaths.has(ack.path)).length,
    notes,
  };
}

export interface FaultSummary {
  readonly fault: RoundKind;
  readonly rounds: number;
  readonly gapP50Ms: number;
  readonly gapP95Ms: number;
  readonly gapMaxMs: number;
  readonly noActiveMaxMs: number;
  readonly lost: number;
  readonly splitBrainMaxMs: number;
}

export function summarize(rounds: readonly RoundResult[]): FaultSummary[] {
  const faults = [...new Set(rounds.map((round) => round.fault))];
  return faults.map((fault) => {
    const mine = rounds.filter((round) => round.fault === fault);
    const gaps = mine.map((round) => round.writeGapMs);
    return {
      fault,
      rounds: mine.length,
      gapP50Ms: percentile(gaps, 50),
      gapP95Ms: percentile(gaps, 95),
      gapMaxMs: Math.max(0, ...gaps),
      noActiveMaxMs: Math.max(0, ...mine.map((round) => round.noActiveMs)),
      lost: mine.reduce((sum, round) => sum + round.lost, 0),
      splitBrainMaxMs: Math.max(0, ...mine.map((round) => round.splitBrainMs)),
    };
  });
}

/**
 * Why the run failed, one phrase each; empty when it passed. Lost, changed
 * or reordered acknowledged writes always fail. Two nodes answering
 * "active" for a moment after a paused or cut-off node returns is Vault's
 * design (it notices the lost lock at its next check), so a split brain
 * fails the run only when it outlasts the lock TTL: by then the old active
 * node has had a whole TTL to notice, and Vault's own bound is broken.
 */
export function verdict(
  account: WriteAccount,
  rounds: readonly RoundResult[],
  lockTtlMs = LOCK_TTL_MS,
): string[] {
  const failures: string[] = [];
  if (account.acknowledged === 0) failures.push("no write was acknowledged at all");
  if (account.lost.length > 0)
    failures.push(`${account.lost.length} acknowledged write(s) lost (first: ${account.lost[0]})`);
  if (account.wrongValue.length > 0)
    failures.push(
      `${account.wrongValue.length} write(s) read back with another value or version (first: ${account.wrongValue[0]})`,
    );
  if (account.outOfOrder.length > 0)
    failures.push(
      `${account.outOfOrder.length} write(s) applied out of order (first: ${account.outOfOrder[0]})`,
    );
  const longSplit = rounds.filter((round) => round.splitBrainMs > lockTtlMs);
  if (longSplit.length > 0)
    failures.push(
      `two nodes active for longer than the lock TTL (${lockTtlMs / 1000} s) in ${longSplit
        .map(
          (round) =>
            `${round.fault} round ${round.round} (${(round.splitBrainMs / 1000).toFixed(1)} s)`,
        )
        .join(", ")}`,
    );
  return failures;
}
