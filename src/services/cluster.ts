import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import type { ComposeCli, ComposeTarget } from "../adapters/compose/compose-cli.js";
import type { ContainerInfo, DockerEngine } from "../adapters/docker/docker-engine.js";
import type { DynamoDbTable, DynamoDbTarget } from "../adapters/dynamodb/dynamodb-table.js";
import { acquireLock, type KeyStore, type StoredKeys } from "../adapters/fs/key-store.js";
import type { VaultNodeClient } from "../adapters/vault/vault-node-client.js";
import {
  type ClusterStatus,
  clusterStatus,
  type DynamoDbStatus,
  type NodeStatus,
  nodeStatus,
  type VaultProbe,
} from "../core/cluster-status.js";
import type { Config } from "../core/config-schema.js";
import {
  ClusterNotHealthyError,
  ConflictError,
  ExternalCommandError,
  UsageError,
  type VaultHaError,
} from "../core/errors.js";
import { COMPOSE_PROJECT_LABEL, LABEL_PROJECT, LABEL_ROLE, LABEL_SESSION } from "../core/labels.js";
import { planUp } from "../core/plan-up.js";
import {
  builtImageTag,
  DYNAMODB_SERVICE,
  VAULT_API_PORT,
  vaultServiceName,
} from "../core/render-compose.js";
import type { Session } from "../core/session.js";
import type { Progress } from "../ui/progress.js";
import type { BuildCache } from "./build-cache.js";
import { checkCertsDir, resolveCertsDir, writeComposeFile } from "./compose-file.js";
import { findEphemeralClusters, pruneClusters, removeSession } from "./prune.js";
import { readSession, recordSession } from "./session-file.js";
import { waitFor } from "./wait.js";
import { startWatchdog, type Watchdog } from "./watchdog.js";

/** Everything the cluster service touches, passed in so tests can swap parts. */
export interface ClusterDeps {
  readonly docker: DockerEngine;
  readonly compose: ComposeCli;
  readonly vault: (url: string) => VaultNodeClient;
  readonly dynamodb: (target: DynamoDbTarget) => DynamoDbTable;
  readonly keys: KeyStore;
  readonly progress: Progress;
  /** Where the Compose file is written (compose.generated.yml by default). */
  readonly composeFile: string;
  readonly certsDir?: string | undefined;
  /** Skips `--build` when the built images are current; absent: always build. */
  readonly buildCache?: BuildCache;
  /** An ephemeral cluster's owner, put on every resource as labels. */
  readonly session?: Session | undefined;
  /** The environment the watchdog process gets (the engine's settings). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** A project's resources by id (containers, networks) and name (volumes). */
export interface ProjectInventory {
  readonly containers: readonly string[];
  readonly networks: readonly string[];
  readonly volumes: readonly string[];
}

export interface UpResult {
  /** False when the cluster was already running, unsealed and healthy. */
  readonly changed: boolean;
  readonly initialized: boolean;
  readonly unsealed: readonly string[];
  readonly status: ClusterStatus;
  readonly composeFile: string;
  readonly keysFile: string;
}

export interface StepDownResult {
  readonly from: string;
  readonly to: string;
  readonly elapsedMs: number;
}

export interface SnapshotOptions {
  /**
   * Ask DynamoDB for table status, item count and the HA lock (default true).
   * The waits inside `up` only need the nodes and the container's health.
   */
  readonly storage?: boolean;
}

const HOST = "127.0.0.1";
const hostUrl = (port: number) => `http://${HOST}:${port}`;

export class ClusterService {
  constructor(
    readonly config: Config,
    private readonly deps: ClusterDeps,
  ) {}

  get target(): ComposeTarget {
    return { file: this.deps.composeFile, project: this.config.project };
  }

  get keysFile(): string {
    return this.deps.keys.keysFile;
  }

  private nodeNames(): string[] {
    return Array.from({ length: this.config.nodes }, (_, index) => vaultServiceName(index + 1));
  }

  // Published ports are read back from the container: with host port 0
  // Docker chose them, and only the container knows.
  private urlFor(index: number, container: ContainerInfo | undefined): string | undefined {
    const published = container?.publishedPorts.get(VAULT_API_PORT);
    if (published) return hostUrl(published);
    return this.config.vault.hostPort === 0
      ? undefined
      : hostUrl(this.config.vault.hostPort + index - 1);
  }

  dynamodbEndpoint(container?: ContainerInfo): string | undefined {
    const published = container?.publishedPorts.get(this.config.dynamodb.port);
    if (published) return hostUrl(published);
    return this.config.dynamodb.hostPort === 0 ? undefined : hostUrl(this.config.dynamodb.hostPort);
  }

  private async probe(url: string): Promise<VaultProbe> {
    const started = performance.now();
    try {
      const health = await this.deps.vault(url).health();
      return { reachable: true, ...health, latencyMs: Math.round(performance.now() - started) };
    } catch (error) {
      return {
        reachable: false,
        error: (error as Error).message,
        latencyMs: Math.round(performance.now() - started),
      };
    }
  }

  private async dynamodbStatus(
    container: ContainerInfo | undefined,
    askTable: boolean,
  ): Promise<DynamoDbStatus> {
    const endpoint = this.dynamodbEndpoint(container);
    const base = {
      container: container?.state ?? "missing",
      healthy: container?.health === "healthy",
      table: this.config.storage.table,
      endpoint: container ? endpoint : undefined,
    };
    if (container?.state !== "running" || endpoint === undefined || !askTable) {
      return {
        ...base,
        tableStatus: undefined,
        itemCount: undefined,
        lock: undefined,
        error: undefined,
      };
    }
    const table = this.deps.dynamodb(this.dynamodbTarget(endpoint));
    try {
      const [info, lock] = await Promise.all([
        table.describe(),
        table.haLock().catch(() => undefined),
      ]);
      return {
        ...base,
        tableStatus: info.status,
        itemCount: info.itemCount,
        lock: lock && { identity: lock.identity, expiresAt: lock.expiresAt.toISOString() },
        error: undefined,
      };
    } catch (error) {
      return {
        ...base,
        tableStatus: undefined,
        itemCount: undefined,
        lock: undefined,
        error: (error as Error).message,
      };
    } finally {
      table.close();
    }
  }

  dynamodbTarget(endpoint: string): DynamoDbTarget {
    return {
      endpoint,
      table: this.config.storage.table,
      region: this.config.storage.region,
      accessKeyId: this.config.storage.access_key,
      secretAccessKey: this.config.storage.secret_key,
    };
  }

  /** One snapshot: containers, every node's health and DynamoDB, polled concurrently. */
  async snapshot(options: SnapshotOptions = {}): Promise<ClusterStatus> {
    const containers = await this.deps.docker.listProjectContainers(this.config.project);
    const byService = new Map(containers.map((container) => [container.service, container]));
    const nodes = this.nodeNames().map(async (name, offset): Promise<NodeStatus> => {
      const index = offset + 1;
      const container = byService.get(name);
      const url = this.urlFor(index, container);
      const probe = container?.state === "running" && url ? await this.probe(url) : undefined;
      return nodeStatus({ name, index, url, container, probe });
    });
    const [nodeStatuses, dynamodb] = await Promise.all([
      Promise.all(nodes),
      this.dynamodbStatus(byService.get(DYNAMODB_SERVICE), options.storage ?? true),
    ]);
    return clusterStatus(this.config.project, new Date(), nodeStatuses, dynamodb);
  }

  /** The Docker engine answers; throws DockerUnavailableError otherwise. */
  async checkDocker(): Promise<void> {
    await this.deps.docker.ping();
  }

  /** Compose v2 is there (only commands that run Compose need it). */
  async checkCompose(): Promise<void> {
    await this.deps.compose.version();
  }

  /**
   * Host ports are free, or held by this project's own containers. Port 0
   * (Docker picks) needs no check. Only EADDRINUSE from a local bind means
   * "in use": EACCES for a port below 1024 as a non-root user says nothing,
   * since a rootful engine's docker-proxy binds it as root; only a rootless
   * engine really refuses those, and it is asked.
   */
  async checkPorts(): Promise<void> {
    const wanted = this.requestedPorts();
    if (wanted.length === 0) return;
    const problems: string[] = [];
    const lowest = Math.min(...wanted.map(([port]) => port));
    if (lowest < 1024) {
      const engine = await this.deps.docker.engineInfo();
      const floor = await unprivilegedPortStart();
      if (engine.rootless && lowest < floor) {
        throw new ConflictError(
          `host port ${lowest} is below ${floor}, and a rootless Docker engine cannot publish ports below net.ipv4.ip_unprivileged_port_start; pick ports from ${floor} up (--vault-port 18200 --dynamodb-port 18000)`,
        );
      }
    }
    await Promise.all(
      wanted.map(async ([port, service]) => {
        const holders = await this.deps.docker.containersPublishing(port);
        const foreign = holders.filter(
          (holder) => holder.labels[COMPOSE_PROJECT_LABEL] !== this.config.project,
        );
        if (foreign.length > 0) {
          problems.push(
            `host port ${port} (for ${service}) is published by container ${foreign[0]?.name}`,
          );
          return;
        }
        if (holders.length === 0 && (await probePort(port)) === "in-use") {
          problems.push(`host port ${port} (for ${service}) is in use by another process`);
        }
      }),
    );
    if (problems.length > 0) {
      problems.sort();
      throw new ConflictError(
        `${problems[0]}; free it, or pick other ports (--vault-port 18200 --dynamodb-port 18000)`,
        problems.slice(1),
      );
    }
  }

  /** The fixed host ports this configuration publishes; none for port 0. */
  private requestedPorts(): [number, string][] {
    const wanted: [number, string][] = [];
    if (this.config.dynamodb.hostPort !== 0)
      wanted.push([this.config.dynamodb.hostPort, DYNAMODB_SERVICE]);
    if (this.config.vault.hostPort !== 0) {
      for (const [offset, name] of this.nodeNames().entries())
        wanted.push([this.config.vault.hostPort + offset, name]);
    }
    return wanted;
  }

  /** From nothing (or anything) to one active node and every node unsealed. */
  async up(options: { waitBudgetMs?: number; removeOrphans?: boolean } = {}): Promise<UpResult> {
    const budget = options.waitBudgetMs ?? 120_000;
    const { progress } = this.deps;
    await this.checkDocker();
    // Preflight before anything is created, not even the state folder.
    const light = { storage: false };
    const before = await this.snapshot(light);
    // Everything that can refuse the request is asked before anything is
    // written: no state folder, no Compose file, no container.
    if (!before.nodes.every((node) => node.container === "running")) {
      await Promise.all([this.checkPorts(), this.checkCompose()]);
    }
    await this.checkCertificates();
    const lock = await this.lock("up");
    try {
      // `before` was taken just ahead of the lock. Another up that finished in
      // between could only have moved the cluster closer to healthy, and every
      // step below is idempotent, so it needs no second look.
      // A corrupt keys file stops `up` here, before the Compose file is written.
      const keysBefore = await this.deps.keys.load();
      const { session } = this.deps;
      if (session && readSession(this.deps.keys.dir)?.id !== session.id)
        await recordSession(this.deps.keys.dir, session);
      const written = await writeComposeFile(
        this.config,
        this.deps.composeFile,
        this.deps.certsDir,
        this.deps.session,
      );
      if (
        !written.changed &&
        before.summary === "healthy" &&
        before.dynamodb.healthy &&
        keysBefore !== undefined
      ) {
        return {
          changed: false,
          initialized: false,
          unsealed: [],
          status: before,
          composeFile: written.file,
          keysFile: this.keysFile,
        };
      }
      const startPlan = planUp(before, {
        keysStored: keysBefore !== undefined,
        composeFileChanged: written.changed,
      });
      if (startPlan.start) {
        await this.checkCompose();
        const build = (await this.deps.buildCache?.needsBuild()) ?? true;
        const imagesBefore = build ? await this.builtImageIds() : [];
        await progress.run(
          `starting DynamoDB Local and ${this.config.nodes} Vault node${this.config.nodes === 1 ? "" : "s"} (docker compose up${build ? " --build" : ""} --wait)`,
          (step) =>
            this.deps.compose
              .up(this.target, {
                build,
                waitTimeoutSeconds: Math.ceil(budget / 1000),
                removeOrphans: options.removeOrphans ?? true,
                onMilestone: (text) => step.detail(text),
              })
              .catch((error: unknown) => {
                throw notHealthyFromCompose(error, this.config.project) ?? error;
              }),
        );
        if (build) {
          await this.deps.buildCache?.remember();
          await this.removeReplacedImages(imagesBefore);
        }
      }
      let status = await progress.run("waiting for every Vault node to answer", () =>
        waitFor("every Vault node to answer on its host port", budget, async () => {
          const current = await this.snapshot({ storage: false });
          const down = current.nodes.filter((node) => node.mode === "down");
          return down.length === 0
            ? { done: true, value: current }
            : {
                done: false,
                last: down.map((node) => `${node.name} ${node.error ?? node.container}`).join(", "),
              };
        }),
      );

      let keys = await this.deps.keys.load();
      const plan = planUp(status, { keysStored: keys !== undefined, composeFileChanged: false });
      if (plan.keysMissing && (await this.initWasInterrupted())) {
        throw initAnswerLost("the cluster", undefined);
      }
      if (plan.keysMissing) {
        throw new ConflictError(
          `the cluster is initialised but its keys are not in ${this.keysFile}; restore that file, or run vault-ha reset to start a fresh cluster (this deletes its data)`,
        );
      }
      let initialized = false;
      if (plan.initialize) {
        if (plan.staleKeys) {
          const kept = await this.deps.keys.setAside();
          progress.note(
            `the cluster's data is new; kept the old keys as ${kept ? path.basename(kept) : "an .old file"}`,
          );
        }
        keys = await progress.run(
          `initialising Vault (${this.config.init.keyShares} key shares, threshold ${this.config.init.keyThreshold})`,
          () => this.initialize(status),
        );
        initialized = true;
        status = await this.snapshot({ storage: false });
      }
      if (!keys)
        throw new ClusterNotHealthyError("no keys after initialisation; run vault-ha up again");
      const sealed = status.nodes.filter((node) => node.mode === "sealed").map((node) => node.name);
      if (sealed.length > 0) {
        await progress.run(`unsealing ${sealed.join(", ")}`, () => this.unsealNodes(sealed, keys));
      }
      status = await progress.run("waiting for one active node", () => this.waitForActive(budget));
      return {
        changed: true,
        initialized,
        unsealed: sealed,
        status,
        composeFile: written.file,
        keysFile: this.keysFile,
      };
    } finally {
      await lock.release();
    }
  }

  private async initialize(status: ClusterStatus): Promise<StoredKeys> {
    const first = status.nodes.find((node) => node.mode === "uninitialized");
    if (!first?.url)
      throw new ClusterNotHealthyError("no uninitialised node answers; run vault-ha status");
    // The folder must be writable before Vault hands out the only copy of the
    // keys, and a marker says an init is under way: if its answer is lost
    // (timeout, a crash), the next `up` can tell why the keys are missing.
    await this.deps.keys.prepare();
    const pending = path.join(this.deps.keys.dir, INIT_PENDING);
    await writeFile(pending, new Date().toISOString(), { mode: 0o600 });
    let result: Awaited<ReturnType<VaultNodeClient["init"]>>;
    try {
      result = await this.deps
        .vault(first.url)
        .init(this.config.init.keyShares, this.config.init.keyThreshold);
    } catch (error) {
      const after = await this.deps
        .vault(first.url)
        .health()
        .catch(() => undefined);
      if (after?.initialized) throw initAnswerLost(first.name, error);
      await rm(pending, { force: true });
      await this.deps.keys.discardPrepared();
      throw error;
    }
    const keys: StoredKeys = {
      keys: result.keys,
      keysBase64: result.keysBase64,
      rootToken: result.rootToken,
      keyShares: this.config.init.keyShares,
      keyThreshold: this.config.init.keyThreshold,
      initializedAt: new Date().toISOString(),
      // Which data these keys open: set-aside keys then say what they were for.
      storage: this.config.dynamodb.inMemory
        ? `in-memory:${this.config.project}`
        : `dynamodb-volume:${this.config.project}_dynamodb-data`,
    };
    try {
      await this.deps.keys.save(keys);
    } catch (error) {
      // The only copy is in this process: print it once rather than lose it.
      process.stderr.write(
        `\nWARNING: vault-ha could not write ${this.keysFile} (${(error as Error).message}).\nThese are the cluster's ONLY unseal keys and root token. Store them safely now:\n${JSON.stringify(keys, null, 2)}\n\n`,
      );
      throw new ConflictError(
        `could not save the new cluster's keys to ${this.keysFile}; they were printed above once; save them into that file (mode 0600) and run vault-ha up again`,
      );
    }
    await rm(pending, { force: true });
    return keys;
  }

  /** True when an earlier `up` started `sys/init` and never saved its answer. */
  private async initWasInterrupted(): Promise<boolean> {
    return stat(path.join(this.deps.keys.dir, INIT_PENDING)).then(
      () => true,
      () => false,
    );
  }

  /** The ids of the two images vault-ha builds for this configuration (absent: none). */
  private async builtImageIds(): Promise<(string | undefined)[]> {
    return Promise.all(
      [
        builtImageTag("vault", this.config.vault.image),
        builtImageTag("dynamodb", this.config.dynamodb.image),
      ].map((tag) => this.deps.docker.imageId(tag)),
    );
  }

  /**
   * A rebuild moves the tag to a new image and leaves the old one dangling;
   * remove those (only ids that were ours, and only if nothing uses them).
   */
  private async removeReplacedImages(before: readonly (string | undefined)[]): Promise<void> {
    const after = await this.builtImageIds();
    await Promise.all(
      before.map(async (id, index) => {
        if (id && id !== after[index]) await this.deps.docker.removeImageIfUnused(id);
      }),
    );
  }

  /** Unseals the named nodes in parallel, each with `threshold` stored keys. */
  async unsealNodes(names: readonly string[], keys: StoredKeys): Promise<void> {
    const status = await this.snapshot({ storage: false });
    await Promise.all(
      names.map(async (name) => {
        const node = status.nodes.find((candidate) => candidate.name === name);
        if (!node?.url)
          throw new UsageError(`no node named ${name}; nodes are ${this.nodeNames().join(", ")}`);
        const client = this.deps.vault(node.url);
        for (const key of keys.keys.slice(0, keys.keyThreshold)) {
          const result = await client.unseal(key);
          if (!result.sealed) return;
        }
        const after = await client.health();
        if (after.sealed) {
          throw new ClusterNotHealthyError(
            `${name} is still sealed after ${keys.keyThreshold} keys; the stored keys in ${this.keysFile} may belong to another cluster (vault-ha reset starts fresh)`,
          );
        }
      }),
    );
  }

  /**
   * Waits for exactly one active node. With `everyNode` (the default, what
   * `up` and `wait` promise) every other node must be a standby too; without
   * it, down or sealed nodes are allowed (a failover after a kill).
   */
  async waitForActive(
    budgetMs = 60_000,
    options: { everyNode?: boolean } = {},
  ): Promise<ClusterStatus> {
    const everyNode = options.everyNode ?? true;
    return waitFor(
      everyNode
        ? "exactly one active node with every other node a standby"
        : "exactly one active node",
      budgetMs,
      async () => {
        const current = await this.snapshot({ storage: false });
        const ready = everyNode ? current.summary === "healthy" : current.active !== undefined;
        return ready
          ? { done: true, value: current }
          : {
              done: false,
              last: current.nodes.map((node) => `${node.name} ${node.mode}`).join(", "),
            };
      },
      250,
    );
  }

  async requireKeys(): Promise<StoredKeys> {
    const keys = await this.deps.keys.load();
    if (!keys) {
      throw new ConflictError(
        `no keys stored for project ${this.config.project} (${this.keysFile}); run vault-ha up first`,
      );
    }
    return keys;
  }

  nodeByName(status: ClusterStatus, name: string): NodeStatus {
    const node = status.nodes.find((candidate) => candidate.name === name);
    if (!node)
      throw new UsageError(`no node named ${name}; nodes are ${this.nodeNames().join(", ")}`);
    return node;
  }

  /** The active node gives up the HA lock; reports who took over and when. */
  async stepDown(budgetMs = 60_000): Promise<StepDownResult> {
    const keys = await this.requireKeys();
    const before = await this.snapshot({ storage: false });
    const active = before.nodes.find((node) => node.mode === "active");
    if (!active?.url) {
      throw new ClusterNotHealthyError(
        `no node is active (${before.nodes.map((node) => `${node.name} ${node.mode}`).join(", ")}); run vault-ha up`,
      );
    }
    const started = performance.now();
    await this.deps.vault(active.url).stepDown(keys.rootToken);
    const after = await waitFor(
      `a node other than ${active.name} to become active`,
      budgetMs,
      async () => {
        const current = await this.snapshot({ storage: false });
        const next = current.nodes.find(
          (node) => node.mode === "active" && node.name !== active.name,
        );
        return next
          ? { done: true, value: next.name }
          : {
              done: false,
              last: current.nodes.map((node) => `${node.name} ${node.mode}`).join(", "),
            };
      },
      100,
    );
    return { from: active.name, to: after, elapsedMs: Math.round(performance.now() - started) };
  }

  /**
   * Seals nodes. Only the active node can be sealed through the API (a
   * standby answers 500); a standby's container is restarted instead, and
   * comes back sealed.
   */
  async seal(
    names: readonly string[] | undefined,
  ): Promise<{ name: string; how: "api" | "restart" }[]> {
    const keys = await this.requireKeys();
    const status = await this.snapshot({ storage: false });
    const targets = (
      names && names.length > 0 ? names.map((name) => this.nodeByName(status, name)) : status.nodes
    ).filter((node) => node.mode === "active" || node.mode === "standby");
    const containers = await this.deps.docker.listProjectContainers(this.config.project);
    const done: { name: string; how: "api" | "restart" }[] = [];
    // Standbys first: sealing the active node first would promote a standby
    // that is on the list, which the API could then no longer seal.
    for (const node of targets.filter((candidate) => candidate.mode === "standby")) {
      const container = containers.find((candidate) => candidate.service === node.name);
      if (!container) continue;
      await this.deps.docker.stopContainer(container.id, 10);
      await this.deps.docker.startContainer(container.id);
      done.push({ name: node.name, how: "restart" });
    }
    for (const node of targets.filter((candidate) => candidate.mode === "active")) {
      if (!node.url) continue;
      await this.deps.vault(node.url).seal(keys.rootToken);
      done.push({ name: node.name, how: "api" });
    }
    await waitFor(
      `${done.map((entry) => entry.name).join(", ")} to report sealed`,
      60_000,
      async () => {
        const current = await this.snapshot({ storage: false });
        const pending = done.filter(
          (entry) => current.nodes.find((node) => node.name === entry.name)?.mode !== "sealed",
        );
        return pending.length === 0
          ? { done: true, value: undefined }
          : { done: false, last: pending.map((entry) => entry.name).join(", ") };
      },
    );
    return done;
  }

  async unseal(names: readonly string[] | undefined): Promise<string[]> {
    const keys = await this.requireKeys();
    const status = await this.snapshot({ storage: false });
    const chosen =
      names && names.length > 0 ? names.map((name) => this.nodeByName(status, name)) : status.nodes;
    const down = chosen.filter((node) => node.mode === "down");
    if (names && names.length > 0 && down.length > 0) {
      throw new ClusterNotHealthyError(
        `${down.map((node) => node.name).join(", ")} is down; run vault-ha up`,
      );
    }
    const sealed = chosen.filter((node) => node.mode === "sealed").map((node) => node.name);
    if (sealed.length > 0) await this.unsealNodes(sealed, keys);
    return sealed;
  }

  /** Stops, starts or kills one node's container (the dashboard's keys, the API's kill). */
  async nodeContainer(name: string, action: "stop" | "start" | "kill"): Promise<void> {
    const containers = await this.deps.docker.listProjectContainers(this.config.project);
    const container = containers.find((candidate) => candidate.service === name);
    if (!container) {
      throw new UsageError(
        `no container for ${name} in project ${this.config.project}; nodes are ${this.nodeNames().join(", ")}`,
      );
    }
    if (action === "stop") await this.deps.docker.stopContainer(container.id, 10);
    else if (action === "start") await this.deps.docker.startContainer(container.id);
    else await this.deps.docker.killContainer(container.id);
  }

  /**
   * Runs a Compose command against this project. Compose needs a file: the
   * project's own when it exists and still describes this project, else a
   * temporary render, so `down` or `logs` never overwrite a working folder's
   * compose.generated.yml that belongs to another project.
   */
  async withComposeTarget<T>(run: (target: ComposeTarget) => Promise<T>): Promise<T> {
    const existing = await readFile(this.deps.composeFile, "utf8").catch(() => "");
    if (new RegExp(`^name: ${this.config.project}$`, "m").test(existing)) return run(this.target);
    const dir = await mkdtemp(path.join(tmpdir(), `vault-ha-${this.config.project}-`));
    try {
      const file = path.join(dir, "compose.yml");
      await writeComposeFile(this.config, file, this.deps.certsDir, this.deps.session);
      return await run({ file, project: this.config.project });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Stops and removes containers and network; keeps the data volume and keys. */
  async down(): Promise<void> {
    await this.checkDocker();
    await this.checkCompose();
    const lock = await this.lock("down");
    try {
      await this.composeDown();
    } finally {
      await lock.release();
    }
  }

  private composeDown(): Promise<void> {
    return this.withComposeTarget((target) => this.deps.compose.down(target, { volumes: false }));
  }

  /**
   * The project's lock, shared by `up`, `down` and `reset`, so none of them
   * runs while another changes the same cluster. Taking it creates the state
   * folder: callers ask everything that can refuse first.
   */
  private async lock(command: string): Promise<{ release(): Promise<void> }> {
    const file = path.join(this.deps.keys.dir, "up.lock");
    const lock = await acquireLock(file);
    if ("heldBy" in lock) {
      const where =
        lock.holder?.host && lock.holder.host !== hostname() ? ` on ${lock.holder.host}` : "";
      throw new ConflictError(
        `another vault-ha up, down or reset for project ${this.config.project} is running (process ${lock.heldBy}${where}); wait for it to finish before ${command}, or use --project for a second cluster (lock file ${file})`,
      );
    }
    return lock;
  }

  /** Certificates to bake into the images: refuses a private key before any build. */
  async checkCertificates(): Promise<void> {
    await checkCertsDir(resolveCertsDir(path.dirname(this.deps.composeFile), this.deps.certsDir));
  }

  /**
   * Removes everything the cluster created, keys aside: containers, network
   * and every volume carrying this project's label. Each step runs even when
   * the one before failed, so a half-started cluster goes too.
   */
  async destroy(): Promise<void> {
    await this.deps.compose.down(this.target, { volumes: true }).catch(() => {});
    const volumes = await this.deps.docker
      .listVolumes({ [LABEL_PROJECT]: this.config.project })
      .catch(() => []);
    for (const volume of volumes) await this.deps.docker.removeVolume(volume.name).catch(() => {});
  }

  /** Forgets the stored keys (the state folder of this project). */
  async forgetKeys(): Promise<void> {
    await this.deps.keys.remove();
  }

  /** Every container, network and volume Compose labelled as this project's. */
  async inventory(): Promise<ProjectInventory> {
    const label = { [COMPOSE_PROJECT_LABEL]: this.config.project };
    const [containers, networks, volumes] = await Promise.all([
      this.deps.docker.listContainers(label, { all: true }),
      this.deps.docker.listNetworks(label),
      this.deps.docker.listVolumes(label),
    ]);
    return {
      containers: containers.map((container) => container.id),
      networks: networks.map((network) => network.id),
      volumes: volumes.map((volume) => volume.name),
    };
  }

  /** Removes exactly these resources (what a handle created), in a removable order. */
  async removeResources(resources: ProjectInventory): Promise<void> {
    await Promise.all(resources.containers.map((id) => this.deps.docker.removeContainer(id)));
    for (const id of resources.networks) await this.deps.docker.removeNetwork(id);
    for (const name of resources.volumes) await this.deps.docker.removeVolume(name);
  }

  /**
   * The synchronous last resort on a plain process exit, when promises no
   * longer run: what exists now minus what existed before, through the
   * docker CLI.
   */
  removeResourcesSync(known: ProjectInventory, before: ProjectInventory): void {
    const label = `label=${COMPOSE_PROJECT_LABEL}=${this.config.project}`;
    const list = (args: string[]) =>
      spawnSync("docker", [...args, "--filter", label], { encoding: "utf8", timeout: 20_000 })
        .stdout?.split("\n")
        .map((line) => line.trim())
        .filter(Boolean) ?? [];
    const now = {
      containers: [...known.containers, ...list(["ps", "-aq", "--no-trunc"])],
      networks: [...known.networks, ...list(["network", "ls", "-q", "--no-trunc"])],
      volumes: [...known.volumes, ...list(["volume", "ls", "-q"])],
    };
    const fresh = (ids: string[], old: readonly string[]) =>
      [...new Set(ids)].filter(
        (id) => !old.some((item) => item.startsWith(id) || id.startsWith(item)),
      );
    const run = (args: string[]) =>
      args.length > 2 && spawnSync("docker", args, { stdio: "ignore", timeout: 60_000 });
    run(["rm", "-f", ...fresh(now.containers, before.containers)]);
    run(["network", "rm", ...fresh(now.networks, before.networks)]);
    run(["volume", "rm", ...fresh(now.volumes, before.volumes)]);
  }

  /** Removes one ephemeral session's resources (by its label, nothing else). */
  removeSession(sessionId: string): Promise<void> {
    return removeSession(this.deps.docker, sessionId);
  }

  removeSessionSync(sessionId: string): void {
    const label = `label=${LABEL_SESSION}=${sessionId}`;
    const list = (args: string[]) =>
      spawnSync("docker", [...args, "--filter", label], { encoding: "utf8", timeout: 20_000 })
        .stdout?.split("\n")
        .map((line) => line.trim())
        .filter(Boolean) ?? [];
    const run = (args: string[], items: string[]) =>
      items.length > 0 &&
      spawnSync("docker", [...args, ...items], { stdio: "ignore", timeout: 60_000 });
    run(["rm", "-f", "-v"], list(["ps", "-aq"]));
    run(["network", "rm"], list(["network", "ls", "-q"]));
    run(["volume", "rm"], list(["volume", "ls", "-q"]));
  }

  /** Removes ephemeral clusters whose owner process is gone (never anything else). */
  async pruneDeadOwners(): Promise<void> {
    await pruneClusters(this.deps.docker, await findEphemeralClusters(this.deps.docker));
  }

  startWatchdog(session: Session): Watchdog {
    return startWatchdog(session.id, this.deps.env ?? process.env);
  }

  async hasKeys(): Promise<boolean> {
    return (await this.deps.keys.load()) !== undefined;
  }

  /** Volumes `reset` would remove: exactly those labelled as this project's DynamoDB data. */
  async resettableVolumes(): Promise<string[]> {
    const volumes = await this.deps.docker.listVolumes({
      [LABEL_PROJECT]: this.config.project,
      [LABEL_ROLE]: "dynamodb-data",
    });
    return volumes.map((volume) => volume.name).sort();
  }

  /** `down`, then the labelled volumes and the state folder. */
  async reset(): Promise<{ volumes: string[]; stateDir: string | undefined }> {
    await this.checkDocker();
    await this.checkCompose();
    const hadState = await this.deps.keys.exists();
    const lock = await this.lock("reset");
    try {
      await this.composeDown();
      const volumes = await this.resettableVolumes();
      for (const volume of volumes) await this.deps.docker.removeVolume(volume);
      // The folder goes with the lock inside it; nothing can take it meanwhile.
      await this.deps.keys.remove();
      return { volumes, stateDir: hadState ? this.deps.keys.dir : undefined };
    } catch (error) {
      await lock.release();
      throw error;
    }
  }
}

/**
 * Binds the loopback port Docker will publish on. Only EADDRINUSE is a
 * verdict; EACCES (a privileged port, non-root) and anything else is
 * "unknown" and left to the engine, which reports its own error.
 */
export function probePort(port: number): Promise<"free" | "in-use" | "unknown"> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) =>
      resolve(error.code === "EADDRINUSE" ? "in-use" : "unknown"),
    );
    server.listen({ port, host: HOST, exclusive: true }, () => server.close(() => resolve("free")));
  });
}

/** The lowest port an unprivileged process may bind (Linux), 1024 where unknown. */
async function unprivilegedPortStart(): Promise<number> {
  const text = await readFile("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8").catch(
    () => "1024",
  );
  const value = Number.parseInt(text, 10);
  return Number.isInteger(value) ? value : 1024;
}

/**
 * A `docker compose up --wait` that failed because a container exited or
 * stayed unhealthy is the cluster not becoming healthy (exit 4), not a
 * failed external command: say which service, and how to see why.
 */
export function notHealthyFromCompose(error: unknown, project: string): VaultHaError | undefined {
  if (!(error instanceof ExternalCommandError)) return undefined;
  const match = new RegExp(
    `container ${project}-([a-z0-9-]+?)-\\d+ (?:is unhealthy|exited \\((\\d+)\\))`,
  ).exec(error.output);
  if (!match) return undefined;
  const [, service, code] = match;
  return new ClusterNotHealthyError(
    `${service} ${code === undefined ? "never became healthy" : `exited with code ${code}`} while the cluster started; see vault-ha logs ${service}`,
    error.output.split("\n").slice(-5),
  );
}

/** Written before `sys/init`, removed once its answer (the keys) is saved. */
const INIT_PENDING = "init.pending";

function initAnswerLost(node: string, cause: unknown): ConflictError {
  const reason = cause instanceof Error ? ` (${cause.message})` : "";
  return new ConflictError(
    `${node} was initialised by an answer that never arrived${reason}: its unseal keys are lost; run vault-ha reset to start a fresh cluster (this deletes its data)`,
  );
}
