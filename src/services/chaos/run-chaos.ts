import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { ContainerFaults, DockerEngine } from "../../adapters/docker/docker-engine.js";
import { createVaultNodeClient } from "../../adapters/vault/vault-node-client.js";
import {
  accountWrites,
  type Fault,
  HEALED_BEFORE_FAILOVER,
  LOCK_TTL_MS,
  type ObserverSample,
  type ReadBack,
  type RoundKind,
  type RoundWindow,
  roundResult,
  summarize,
  verdict,
} from "../../core/chaos-model.js";
import { type ChaosReport, changesOnly } from "../../core/chaos-report.js";
import type { ClusterStatus } from "../../core/cluster-status.js";
import { UsageError } from "../../core/errors.js";
import type { ClusterService } from "../cluster.js";
import { sleep, waitFor } from "../wait.js";
import { injectFault } from "./faults.js";
import { ChaosObserver, ChaosReaders, ChaosTargets, ChaosWorkload } from "./workload.js";

export const CHAOS_MOUNT = "chaos";

export interface ChaosOptions {
  readonly faults: readonly Fault[];
  readonly rounds: number;
  readonly writers: number;
  /** How long a paused or cut-off node stays so (default: lock TTL + 5 s). */
  readonly holdMs?: number;
  /** Progress lines (stderr on the command line). */
  readonly note?: (line: string) => void;
}

export interface ChaosRun {
  readonly report: ChaosReport;
  /** Every observer sample, for the timeline picture. */
  readonly samples: readonly ObserverSample[];
}

/**
 * Refuses what cannot be run before anything is done: DynamoDB Local in
 * memory loses every item on a restart, and with them the cluster.
 */
export function refuseImpossible(cluster: ClusterService, faults: readonly Fault[]): void {
  if (faults.includes("dynamodb-restart") && cluster.config.dynamodb.inMemory) {
    throw new UsageError(
      `dynamodb-restart is refused: DynamoDB Local of project ${cluster.config.project} keeps its data in memory (dynamodb.inMemory), so a restart would delete the whole cluster's data; run it against a cluster with a persistent volume, or leave dynamodb-restart out of --faults`,
    );
  }
}

async function ensureKvMount(cluster: ClusterService): Promise<void> {
  const api = await cluster.activeApi();
  const mounts = await api.read("sys/mounts");
  const known = (mounts?.data ?? mounts ?? {}) as Record<string, unknown>;
  if (!(`${CHAOS_MOUNT}/` in known))
    await api.write(`sys/mounts/${CHAOS_MOUNT}`, { type: "kv", options: { version: "2" } });
  // A new KV v2 mount refuses writes for a moment while it upgrades itself.
  await waitFor(
    `the ${CHAOS_MOUNT}/ KV v2 mount to take writes`,
    30_000,
    async () => {
      try {
        await (await cluster.activeApi()).write(`${CHAOS_MOUNT}/data/ready`, { data: { ok: "1" } });
        return { done: true, value: undefined };
      } catch (error) {
        return { done: false, last: (error as Error).message };
      }
    },
    250,
  );
}

/** Reads every acknowledged path back through the active node, a few at a time. */
async function readBackAll(
  cluster: ClusterService,
  paths: readonly string[],
): Promise<Map<string, ReadBack | undefined>> {
  const api = await cluster.activeApi();
  const found = new Map<string, ReadBack | undefined>();
  let next = 0;
  const worker = async () => {
    while (next < paths.length) {
      const path = paths[next++] as string;
      const answer = await api.read(path);
      const data = answer?.data as
        | { data?: { value?: unknown }; metadata?: { version?: unknown; created_time?: unknown } }
        | undefined;
      found.set(
        path,
        data?.data
          ? {
              value: typeof data.data.value === "string" ? data.data.value : undefined,
              version: Number(data.metadata?.version ?? 0),
              createdAt: Date.parse(String(data.metadata?.created_time ?? "")) || 0,
            }
          : undefined,
      );
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return found;
}

/** One round: what it does to the cluster, and whether `up` heals it after. */
export interface RoundPlan {
  readonly fault: RoundKind;
  readonly round: number;
  /**
   * Acts on the cluster in steady state (`before`); returns the node it hit
   * and notes for the report.
   */
  act(before: ClusterStatus): Promise<{ node: string; notes: string[] }>;
  /**
   * A fault leaves a node down or sealed: wait for a new active node, then
   * heal with `up`. A rolling upgrade ends healthy by itself.
   */
  readonly heal: boolean;
  /** With heal: wait for another node to take over first (default true). */
  readonly failover?: boolean;
}

/**
 * The chaos run: a workload and an observer on the live cluster, one fault
 * per round on the active node, healed with `up` and back to steady state
 * before the next; at the end every acknowledged write is read back.
 */
export async function runChaos(
  cluster: ClusterService,
  docker: DockerEngine & ContainerFaults,
  options: ChaosOptions,
): Promise<ChaosRun> {
  refuseImpossible(cluster, options.faults);
  const rounds: RoundPlan[] = options.faults.flatMap((fault) =>
    Array.from({ length: options.rounds }, (_, index) => ({
      fault,
      round: index + 1,
      heal: true,
      failover: !HEALED_BEFORE_FAILOVER.includes(fault),
      async act(before: ClusterStatus) {
        const node = fault === "dynamodb-restart" ? "dynamodb" : (before.active as string);
        options.note?.(`round ${index + 1} of ${fault} on ${node}`);
        return {
          node,
          notes: await injectFault(fault, node, { cluster, docker, holdMs: options.holdMs }),
        };
      },
    })),
  );
  return runRounds(cluster, rounds, options);
}

/**
 * Rounds under a workload: K writers and an observer run from before the
 * first round to after the last; each round starts in steady state (one
 * active node, every other a standby) and ends when a write lands again.
 */
export async function runRounds(
  cluster: ClusterService,
  plans: readonly RoundPlan[],
  options: { readonly writers: number },
): Promise<ChaosRun> {
  await cluster.checkDocker();
  const keys = await cluster.requireKeys();
  const steady = await cluster.waitForActive(60_000);
  await ensureKvMount(cluster);

  const ca = cluster.config.tls ? await readFile(cluster.caFile, "utf8") : undefined;
  // Short budgets: a paused or cut-off node must not hold a writer or a poll for long.
  const clients = new Map<string, ReturnType<typeof createVaultNodeClient>>();
  const clientFor = (url: string) => {
    let client = clients.get(url);
    if (!client) {
      client = createVaultNodeClient(url, 400, { ca, stateChangeTimeoutMs: 2_000 });
      clients.set(url, client);
    }
    return client;
  };
  const runId = randomBytes(4).toString("hex");
  const origin = performance.now();
  const now = () => performance.now() - origin;
  const targets = new ChaosTargets(now);
  const follow = (status: ClusterStatus) => {
    targets.setNodes(status.nodes, status.loadBalancer?.url);
    targets.active ??= status.active;
  };
  follow(steady);
  const observer = new ChaosObserver(targets, clientFor);
  const workload = new ChaosWorkload(
    targets,
    clientFor,
    keys.rootToken,
    `${CHAOS_MOUNT}/data/run-${runId}`,
  );
  const readers = new ChaosReaders(targets, clientFor, keys.rootToken, workload.acks);
  observer.start();
  workload.start(options.writers);
  readers.start(options.writers);
  const windows: (RoundWindow & { readonly notes: readonly string[] })[] = [];
  const startedAt = new Date().toISOString();
  try {
    for (const plan of plans) {
      const before = await cluster.waitForActive(120_000);
      follow(before);
      const startT = now();
      // A second of writes before the fault: the gap is measured from a working state.
      await sleep(1_000);
      const faultT = now();
      const { node, notes } = await plan.act(before);
      if (plan.heal) {
        // A new active node (any but the one hit, except where it may come back as itself).
        if (plan.failover !== false) await cluster.waitForActive(120_000, { everyNode: false });
        const healed = await cluster.up();
        notes.push(
          healed.changed
            ? `healed by up (${healed.unsealed.length > 0 ? `unsealed ${healed.unsealed.join(", ")}` : "restarted"})`
            : "up found nothing to heal",
        );
      }
      const after = await cluster.waitForActive(120_000);
      follow(after);
      // Until a write lands again, the round is not over: the gap must close inside it.
      await waitFor("a write to be acknowledged after the round", 60_000, async () =>
        workload.acks.some((ack) => ack.t > now() - 500)
          ? { done: true, value: undefined }
          : { done: false, last: `${workload.attempted} attempted` },
      );
      windows.push({
        fault: plan.fault,
        round: plan.round,
        node,
        startT,
        faultT,
        endT: now(),
        notes,
      });
    }
  } finally {
    await Promise.all([workload.stop(), readers.stop()]);
    await observer.stop();
  }
  const account = accountWrites(
    workload.acks,
    await readBackAll(
      cluster,
      workload.acks.map((ack) => ack.path),
    ),
  );
  const lostPaths = new Set(account.lost);
  const rounds = windows.map((round) =>
    roundResult(round, observer.samples, workload.acks, lostPaths, round.notes),
  );
  const failures = verdict(account, rounds);
  return {
    report: {
      project: cluster.config.project,
      runId,
      startedAt,
      faults: [...new Set(plans.map((plan) => plan.fault))],
      writers: options.writers,
      lockTtlMs: LOCK_TTL_MS,
      rounds,
      summary: summarize(rounds),
      writes: { ...account, attempted: workload.attempted },
      reads: { ...readers.tally, staleReads: [...readers.tally.staleReads] },
      acks: workload.acks,
      timeline: changesOnly(observer.samples),
      passed: failures.length === 0,
      failures,
    },
    samples: observer.samples,
  };
}
