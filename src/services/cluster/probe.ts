import type { ContainerInfo } from "../../adapters/docker/docker-engine.js";
import type { DynamoDbTable, DynamoDbTarget } from "../../adapters/dynamodb/dynamodb-table.js";
import {
  type ClusterStatus,
  clusterStatus,
  type DynamoDbStatus,
  type LoadBalancerStatus,
  type NodeStatus,
  nodeStatus,
  type VaultProbe,
} from "../../core/cluster-status.js";
import { hostUrl } from "../../core/ports-host.js";
import { DYNAMODB_SERVICE, VAULT_API_PORT } from "../../core/render-compose.js";
import { LB_SERVICE } from "../../core/topology.js";
import { ClusterPart } from "./part.js";
import type { SnapshotOptions } from "./types.js";

/** Where each node and DynamoDB answer from the host, and one status snapshot of them all. */
export class ClusterProbe extends ClusterPart {
  // Published ports are read back from the container: with host port 0
  // Docker chose them, and only the container knows.
  private hostUrl(port: number): string {
    return hostUrl(this.placement.connectHost, port, this.config.tls ? "https" : "http");
  }

  /** The load balancer's URL (loadBalancer.enabled), read back from its container. */
  loadBalancerUrl(container: ContainerInfo | undefined): string | undefined {
    if (!this.config.loadBalancer.enabled) return undefined;
    const published = container?.publishedPorts.get(VAULT_API_PORT);
    if (published) return this.hostUrl(published);
    const { hostPort } = this.config.loadBalancer;
    return hostPort === 0 ? undefined : this.hostUrl(hostPort);
  }

  private urlFor(index: number, container: ContainerInfo | undefined): string | undefined {
    const published = container?.publishedPorts.get(VAULT_API_PORT);
    if (published) return this.hostUrl(published);
    return this.config.vault.hostPort === 0
      ? undefined
      : this.hostUrl(this.config.vault.hostPort + index - 1);
  }

  dynamodbEndpoint(container?: ContainerInfo): string | undefined {
    const published = container?.publishedPorts.get(this.config.dynamodb.port);
    // DynamoDB Local speaks plain HTTP whatever `tls` says.
    if (published) return hostUrl(this.placement.connectHost, published);
    return this.config.dynamodb.hostPort === 0
      ? undefined
      : hostUrl(this.placement.connectHost, this.config.dynamodb.hostPort);
  }

  private async probeNode(url: string): Promise<VaultProbe> {
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
      // Not "Docker says healthy": its healthcheck runs every 30 s, and
      // vault-ha asks DynamoDB itself. Running and not declared unhealthy;
      // when asked, it must also have answered (below).
      healthy: container?.state === "running" && container.health !== "unhealthy",
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
    const table = this.dynamodbTable(endpoint);
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
      // A fresh client next time: a half-open connection must not stick.
      this.forgetTable();
      return {
        ...base,
        healthy: false,
        tableStatus: undefined,
        itemCount: undefined,
        lock: undefined,
        error: (error as Error).message,
      };
    }
  }

  private table: { readonly endpoint: string; readonly table: DynamoDbTable } | undefined;

  /**
   * One client per endpoint for the life of the process: a new AWS SDK
   * client per poll cost most of the dashboard's idle CPU. Its idle
   * keep-alive sockets do not hold the process open.
   */
  dynamodbTable(endpoint: string): DynamoDbTable {
    if (this.table?.endpoint !== endpoint) {
      this.forgetTable();
      this.table = { endpoint, table: this.deps.dynamodb(this.dynamodbTarget(endpoint)) };
    }
    return this.table.table;
  }

  private forgetTable(): void {
    this.table?.table.close();
    this.table = undefined;
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
      const probe = container?.state === "running" && url ? await this.probeNode(url) : undefined;
      return nodeStatus({ name, index, url, container, probe });
    });
    const [nodeStatuses, dynamodb, loadBalancer] = await Promise.all([
      Promise.all(nodes),
      this.dynamodbStatus(byService.get(DYNAMODB_SERVICE), options.storage ?? true),
      this.loadBalancerStatus(byService.get(LB_SERVICE)),
    ]);
    const status = clusterStatus(this.config.project, new Date(), nodeStatuses, dynamodb);
    return loadBalancer ? { ...status, loadBalancer } : status;
  }

  /**
   * Whether the balancer's one address reaches an active node right now:
   * sys/health through it answers 200 only from the active one.
   */
  private async loadBalancerStatus(
    container: ContainerInfo | undefined,
  ): Promise<LoadBalancerStatus | undefined> {
    if (!this.config.loadBalancer.enabled) return undefined;
    const url = this.loadBalancerUrl(container);
    const probe = container?.state === "running" && url ? await this.probeNode(url) : undefined;
    return {
      url,
      container: container?.state ?? "missing",
      reachesActive:
        probe?.reachable === true && probe.initialized && !probe.sealed && !probe.standby,
    };
  }
}
