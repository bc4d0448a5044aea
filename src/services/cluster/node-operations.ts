import type { StoredKeys } from "../../adapters/fs/key-store.js";
import { type VaultApi, vaultApi } from "../../adapters/vault/vault-api.js";
import type { ClusterStatus, NodeStatus } from "../../core/cluster-status.js";
import { ClusterNotHealthyError, ConflictError, UsageError } from "../../core/errors.js";
import {
  activeOtherThan,
  nodesSealed,
  oneActiveAllStandby,
  oneActiveNode,
} from "../../core/readiness.js";
import { usesAutoUnseal } from "../../core/topology.js";
import { waitUntil } from "../wait.js";
import { ClusterPart } from "./part.js";
import type { StepDownResult } from "./types.js";

/** What is done to running nodes: unseal, seal, step-down, stop/start/kill, and the waits for them. */
export class NodeOperations extends ClusterPart {
  /** The snapshot waits poll: nodes only, no DynamoDB round trip. */
  private readonly lightSnapshot = () => this.parts.probe.snapshot({ storage: false });

  async requireKeys(): Promise<StoredKeys> {
    const keys = await this.deps.keys.load();
    if (!keys) {
      throw new ConflictError(
        `no keys stored for project ${this.config.project} (${this.keysFile})`,
        [],
        { next: { kind: "up" } },
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
    const before = await this.parts.probe.snapshot({ storage: false });
    const active = before.nodes.find((node) => node.mode === "active");
    if (!active?.url) {
      throw new ClusterNotHealthyError(
        `no node is active (${before.nodes.map((node) => `${node.name} ${node.mode}`).join(", ")})`,
        [],
        { next: { kind: "up" } },
      );
    }
    const started = performance.now();
    await this.deps.vault(active.url).stepDown(keys.rootToken);
    const after = await waitUntil(activeOtherThan(active.name), budgetMs, this.lightSnapshot, 100);
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
    const status = await this.parts.probe.snapshot({ storage: false });
    const targets = (
      names && names.length > 0 ? names.map((name) => this.nodeByName(status, name)) : status.nodes
    ).filter((node) => node.mode === "active" || node.mode === "standby");
    const standbys = targets.filter((candidate) => candidate.mode === "standby");
    if (usesAutoUnseal(this.config) && standbys.length > 0) {
      throw new ConflictError(
        `${standbys.map((node) => node.name).join(", ")} cannot stay sealed: cluster ${this.config.project} auto-unseals (seal.type ${this.config.seal.type}), and Vault seals a standby only by a restart, which unseals it again; seal the active node instead (vault-ha seal ${status.active ?? "vault-N"})`,
      );
    }
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
    await waitUntil(nodesSealed(done.map((entry) => entry.name)), 60_000, this.lightSnapshot);
    return done;
  }

  /** Stops and starts the named nodes' containers (auto-unseal happens as Vault starts). */
  async restartNodes(names: readonly string[]): Promise<void> {
    const containers = await this.deps.docker.listProjectContainers(this.config.project);
    await Promise.all(
      names.map(async (name) => {
        const container = containers.find((candidate) => candidate.service === name);
        if (!container) return;
        await this.deps.docker.stopContainer(container.id, 10);
        await this.deps.docker.startContainer(container.id);
      }),
    );
  }

  async unseal(names: readonly string[] | undefined): Promise<string[]> {
    // Auto-unseal: nodes unseal themselves, and recovery keys cannot.
    if (usesAutoUnseal(this.config)) return [];
    const keys = await this.requireKeys();
    const status = await this.parts.probe.snapshot({ storage: false });
    const chosen =
      names && names.length > 0 ? names.map((name) => this.nodeByName(status, name)) : status.nodes;
    const down = chosen.filter((node) => node.mode === "down");
    if (names && names.length > 0 && down.length > 0) {
      throw new ClusterNotHealthyError(`${down.map((node) => node.name).join(", ")} is down`, [], {
        next: { kind: "up" },
      });
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

  /** Unseals the named nodes in parallel, each with `threshold` stored keys. */
  async unsealNodes(names: readonly string[], keys: StoredKeys): Promise<void> {
    const status = await this.parts.probe.snapshot({ storage: false });
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
            `${name} is still sealed after ${keys.keyThreshold} keys; the stored keys in ${this.keysFile} may belong to another cluster`,
            [],
            { next: { kind: "reset" } },
          );
        }
      }),
    );
  }

  /**
   * Vault's API on the active node with the stored root token: what
   * configure, secrets and init commands write through. A standby would
   * redirect, so the active node is looked up first.
   */
  async activeApi(token?: string): Promise<VaultApi & { readonly node: string }> {
    const status = await this.lightSnapshot();
    const active = status.nodes.find((node) => node.mode === "active");
    if (!active?.url) {
      throw new ClusterNotHealthyError(
        `no node of project ${this.config.project} is active (${status.nodes.map((node) => `${node.name} ${node.mode}`).join(", ")})`,
        [],
        { next: { kind: "up" } },
      );
    }
    const rootToken = token ?? (await this.requireKeys()).rootToken;
    return { ...vaultApi(this.deps.vault(active.url), rootToken), node: active.name };
  }

  /**
   * Runs a command in one service's container (`docker compose exec -T`),
   * through this project's Compose file (a temporary render when the working
   * folder's file belongs to another project).
   */
  execIn(
    service: string,
    command: readonly string[],
    options: { env?: Readonly<Record<string, string>>; attach?: boolean; budgetMs?: number } = {},
  ) {
    return this.parts.teardown.withComposeTarget((target) =>
      this.deps.compose.exec(target, service, command, options),
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
    return waitUntil(everyNode ? oneActiveAllStandby : oneActiveNode, budgetMs, this.lightSnapshot);
  }
}
