import type { ComposeTarget } from "../adapters/compose/compose-cli.js";
import type { ContainerInfo } from "../adapters/docker/docker-engine.js";
import type { DynamoDbTarget } from "../adapters/dynamodb/dynamodb-table.js";
import type { StoredKeys } from "../adapters/fs/key-store.js";
import type { ClusterStatus, NodeStatus } from "../core/cluster-status.js";
import type { Config } from "../core/config-schema.js";
import type { Session } from "../core/session.js";
import { BringUp } from "./cluster/bring-up.js";
import { HandleResources } from "./cluster/handle-resources.js";
import { VaultInit } from "./cluster/init.js";
import { NodeOperations } from "./cluster/node-operations.js";
import type { ClusterParts } from "./cluster/part.js";
import { Preflight } from "./cluster/preflight.js";
import { ClusterProbe } from "./cluster/probe.js";
import { Teardown } from "./cluster/teardown.js";
import type {
  ClusterDeps,
  ProjectInventory,
  SnapshotOptions,
  StepDownResult,
  UpResult,
} from "./cluster/types.js";
import type { Watchdog } from "./watchdog.js";

export { notHealthyFromCompose } from "./cluster/bring-up.js";
export { probePort } from "./cluster/preflight.js";
export type {
  ClusterDeps,
  ProjectInventory,
  SnapshotOptions,
  StepDownResult,
  UpResult,
} from "./cluster/types.js";

/**
 * One cluster, as the commands and the harness see it: a facade over parts
 * with one job each (src/services/cluster/): probe (addresses and status
 * snapshots), preflight, bring-up, init, node operations, teardown, and the
 * resources a handle owns. Each method here only hands over to its part.
 */
export class ClusterService {
  private readonly parts: ClusterParts;

  constructor(
    readonly config: Config,
    deps: ClusterDeps,
  ) {
    const parts = {} as { -readonly [K in keyof ClusterParts]: ClusterParts[K] };
    parts.probe = new ClusterProbe(config, deps, parts);
    parts.preflight = new Preflight(config, deps, parts);
    parts.bringUp = new BringUp(config, deps, parts);
    parts.init = new VaultInit(config, deps, parts);
    parts.nodes = new NodeOperations(config, deps, parts);
    parts.teardown = new Teardown(config, deps, parts);
    parts.handle = new HandleResources(config, deps, parts);
    this.parts = parts;
  }

  get target(): ComposeTarget {
    return this.parts.probe.target;
  }
  get keysFile(): string {
    return this.parts.probe.keysFile;
  }

  // Probe
  dynamodbEndpoint(container?: ContainerInfo): string | undefined {
    return this.parts.probe.dynamodbEndpoint(container);
  }
  dynamodbTarget(endpoint: string): DynamoDbTarget {
    return this.parts.probe.dynamodbTarget(endpoint);
  }
  snapshot(options?: SnapshotOptions): Promise<ClusterStatus> {
    return this.parts.probe.snapshot(options);
  }

  // Preflight
  checkDocker(): Promise<void> {
    return this.parts.preflight.checkDocker();
  }
  checkCompose(): Promise<void> {
    return this.parts.preflight.checkCompose();
  }
  checkPorts(): Promise<void> {
    return this.parts.preflight.checkPorts();
  }

  // Bring-up
  up(options?: { waitBudgetMs?: number; removeOrphans?: boolean }): Promise<UpResult> {
    return this.parts.bringUp.up(options);
  }

  // Node operations
  requireKeys(): Promise<StoredKeys> {
    return this.parts.nodes.requireKeys();
  }
  nodeByName(status: ClusterStatus, name: string): NodeStatus {
    return this.parts.nodes.nodeByName(status, name);
  }
  unsealNodes(names: readonly string[], keys: StoredKeys): Promise<void> {
    return this.parts.nodes.unsealNodes(names, keys);
  }
  waitForActive(budgetMs?: number, options?: { everyNode?: boolean }): Promise<ClusterStatus> {
    return this.parts.nodes.waitForActive(budgetMs, options);
  }
  stepDown(budgetMs?: number): Promise<StepDownResult> {
    return this.parts.nodes.stepDown(budgetMs);
  }
  seal(names: readonly string[] | undefined): Promise<{ name: string; how: "api" | "restart" }[]> {
    return this.parts.nodes.seal(names);
  }
  unseal(names: readonly string[] | undefined): Promise<string[]> {
    return this.parts.nodes.unseal(names);
  }
  nodeContainer(name: string, action: "stop" | "start" | "kill"): Promise<void> {
    return this.parts.nodes.nodeContainer(name, action);
  }

  // Teardown
  withComposeTarget<T>(run: (target: ComposeTarget) => Promise<T>): Promise<T> {
    return this.parts.teardown.withComposeTarget(run);
  }
  down(): Promise<void> {
    return this.parts.teardown.down();
  }
  destroy(): Promise<void> {
    return this.parts.teardown.destroy();
  }
  forgetKeys(): Promise<void> {
    return this.parts.teardown.forgetKeys();
  }
  resettableVolumes(): Promise<string[]> {
    return this.parts.teardown.resettableVolumes();
  }
  reset(): Promise<{ volumes: string[]; stateDir: string | undefined }> {
    return this.parts.teardown.reset();
  }

  // What a harness handle owns
  inventory(): Promise<ProjectInventory> {
    return this.parts.handle.inventory();
  }
  removeResources(resources: ProjectInventory): Promise<void> {
    return this.parts.handle.removeResources(resources);
  }
  removeResourcesSync(known: ProjectInventory, before: ProjectInventory): void {
    this.parts.handle.removeResourcesSync(known, before);
  }
  removeSession(sessionId: string): Promise<void> {
    return this.parts.handle.removeSession(sessionId);
  }
  removeSessionSync(sessionId: string): void {
    this.parts.handle.removeSessionSync(sessionId);
  }
  pruneDeadOwners(): Promise<void> {
    return this.parts.handle.pruneDeadOwners();
  }
  startWatchdog(session: Session): Watchdog {
    return this.parts.handle.startWatchdog(session);
  }
  hasKeys(): Promise<boolean> {
    return this.parts.handle.hasKeys();
  }
}
