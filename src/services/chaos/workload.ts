import { randomBytes } from "node:crypto";
import { type VaultApi, vaultApi } from "../../adapters/vault/vault-api.js";
import type { VaultNodeClient } from "../../adapters/vault/vault-node-client.js";
import type { ObserverSample, WriteAck } from "../../core/chaos-model.js";
import { sleep } from "../wait.js";

/**
 * Where the workload and the observer reach the cluster now. Published ports
 * move when a container restarts (host port 0), so the run updates them
 * after every heal; the observer updates which node is active.
 */
export class ChaosTargets {
  nodes = new Map<string, string>();
  loadBalancer: string | undefined;
  active: string | undefined;

  constructor(
    /** Milliseconds since the run started: every recorded time is on this clock. */
    readonly now: () => number,
  ) {}

  setNodes(nodes: readonly { name: string; url: string | undefined }[], loadBalancer?: string) {
    this.nodes = new Map(
      nodes.flatMap((node) => (node.url ? [[node.name, node.url] as const] : [])),
    );
    this.loadBalancer = loadBalancer;
  }

  /**
   * Where writer `writer` sends write `sequence`: with a balancer, every other
   * write goes through it, so both paths a client could take are measured.
   */
  writeTarget(writer: number, sequence: number): { via: string; url: string } | undefined {
    if (this.loadBalancer && (writer + sequence) % 2 === 1)
      return { via: "lb", url: this.loadBalancer };
    const url = this.active ? this.nodes.get(this.active) : undefined;
    return this.active && url ? { via: this.active, url } : undefined;
  }
}

/** A client per URL with short budgets: a frozen node must cost a writer a moment, not a minute. */
export type ClientFor = (url: string) => VaultNodeClient;

/** K writers, each writing unique KV v2 entries and recording every acknowledgement. */
export class ChaosWorkload {
  readonly acks: WriteAck[] = [];
  attempted = 0;
  private stopped = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly targets: ChaosTargets,
    private readonly clientFor: ClientFor,
    private readonly token: string,
    private readonly prefix: string,
    /** Pause between one writer's writes, so two cores are not flooded. */
    private readonly paceMs = 40,
  ) {}

  start(writers: number): void {
    this.loops = Array.from({ length: writers }, (_, writer) => this.run(writer + 1));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  private async run(writer: number): Promise<void> {
    for (let sequence = 1; !this.stopped; sequence += 1) {
      const target = this.targets.writeTarget(writer, sequence);
      if (!target) {
        await sleep(50);
        continue;
      }
      // A path is never reused, even after a write whose outcome is unknown
      // (a timeout): only acknowledged writes are accounted for.
      const path = `${this.prefix}/w${writer}-${sequence}`;
      const value = randomBytes(8).toString("hex");
      this.attempted += 1;
      try {
        const api: VaultApi = vaultApi(this.clientFor(target.url), this.token);
        const answer = await api.write(path, { data: { value } });
        const version = Number((answer.data as { version?: unknown } | undefined)?.version);
        if (Number.isInteger(version) && version > 0) {
          this.acks.push({
            path,
            writer,
            sequence,
            version,
            value,
            t: this.targets.now(),
            via: target.via,
          });
        }
        await sleep(this.paceMs);
      } catch {
        // Refused, timed out or redirected: not acknowledged, try the next path.
        await sleep(50);
      }
    }
  }
}

/** What the readers saw, by outcome. */
export interface ReadTally {
  attempted: number;
  /** The acknowledged value or a newer version. */
  ok: number;
  /** Refused, timed out or redirected: no answer, so nothing to judge. */
  failed: number;
  /** An answer older than a write acknowledged before the read began (404 or a lower version). */
  stale: number;
  /** The first stale reads, for the report. */
  readonly staleReads: { path: string; via: string; t: number }[];
}

/**
 * K readers: each reads a recently acknowledged write back through every
 * node in turn (a standby forwards to the active node) and through the
 * balancer when there is one, so a client on any address is measured. A
 * stale answer (an acknowledged write missing) is counted and reported.
 */
export class ChaosReaders {
  readonly tally: ReadTally = { attempted: 0, ok: 0, failed: 0, stale: 0, staleReads: [] };
  private stopped = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly targets: ChaosTargets,
    private readonly clientFor: ClientFor,
    private readonly token: string,
    private readonly acks: readonly WriteAck[],
    private readonly paceMs = 60,
  ) {}

  start(readers: number): void {
    this.loops = Array.from({ length: readers }, (_, reader) => this.run(reader));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  private async run(reader: number): Promise<void> {
    for (let turn = reader; !this.stopped; turn += 1) {
      const addresses = [
        ...[...this.targets.nodes.entries()].map(([name, url]) => ({ via: name, url })),
        ...(this.targets.loadBalancer ? [{ via: "lb", url: this.targets.loadBalancer }] : []),
      ];
      // One of the last few acknowledged writes: fresh enough to catch a stale node.
      const ack = this.acks.at(-1 - (turn % Math.max(1, Math.min(5, this.acks.length))));
      const address = addresses[turn % Math.max(1, addresses.length)];
      if (!ack || !address) {
        await sleep(50);
        continue;
      }
      this.tally.attempted += 1;
      try {
        const answer = await vaultApi(this.clientFor(address.url), this.token).read(ack.path);
        const data = answer?.data as { metadata?: { version?: unknown } } | undefined;
        const version = Number(data?.metadata?.version ?? 0);
        if (version >= ack.version) this.tally.ok += 1;
        else {
          this.tally.stale += 1;
          if (this.tally.staleReads.length < 20)
            this.tally.staleReads.push({ path: ack.path, via: address.via, t: this.targets.now() });
        }
        await sleep(this.paceMs);
      } catch {
        this.tally.failed += 1;
        await sleep(50);
      }
    }
  }
}

/**
 * Polls every node's sys/health and sys/leader about every 100 ms and
 * records which nodes claim to be active; tells the writers where to go.
 */
export class ChaosObserver {
  readonly samples: ObserverSample[] = [];
  private stopped = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly targets: ChaosTargets,
    private readonly clientFor: ClientFor,
    private readonly intervalMs = 100,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }

  /** Whether a node claims to be active: sys/health says so, or sys/leader says is_self. */
  private async claimsActive(url: string): Promise<boolean> {
    const client = this.clientFor(url);
    const [health, leader] = await Promise.allSettled([client.health(), client.leader()]);
    const byHealth =
      health.status === "fulfilled" &&
      health.value.initialized &&
      !health.value.sealed &&
      !health.value.standby;
    const byLeader = leader.status === "fulfilled" && leader.value.isSelf;
    return byHealth || byLeader;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      const started = this.targets.now();
      const nodes = [...this.targets.nodes.entries()];
      const claims = await Promise.all(nodes.map(([, url]) => this.claimsActive(url)));
      const active = nodes.filter((_, index) => claims[index]).map(([name]) => name);
      this.samples.push({ t: started, active });
      // Two claimants: keep writing to the one already chosen while it claims.
      if (active.length === 1 || !active.includes(this.targets.active ?? ""))
        this.targets.active = active[0];
      await sleep(Math.max(0, this.intervalMs - (this.targets.now() - started)));
    }
  }
}
