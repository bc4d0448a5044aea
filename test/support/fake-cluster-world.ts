import type { ComposeCli } from "../../src/adapters/compose/compose-cli.js";
import type { ContainerInfo, DockerEngine } from "../../src/adapters/docker/docker-engine.js";
import type { DynamoDbTable } from "../../src/adapters/dynamodb/dynamodb-table.js";
import type { VaultNodeClient } from "../../src/adapters/vault/vault-node-client.js";
import { VaultUnreachableError } from "../../src/adapters/vault/vault-node-client.js";

/**
 * A pretend engine with a pretend Vault HA cluster in it, for unit tests of
 * the cluster service's flows: Compose creates the containers, every node
 * shares one storage (initialised once, for all), unsealing takes the
 * threshold of keys, and the first unsealed node holds the HA lock. Only the
 * behaviour the flows rely on is modelled; the end-to-end tier has the real
 * thing.
 */
export class FakeClusterWorld {
  readonly calls: string[] = [];
  initialized = false;
  /** Makes the next sys/init succeed on the "server" but lose its answer. */
  loseNextInitAnswer = false;
  private readonly keys = ["k1", "k2", "k3", "k4", "k5"];
  private readonly containers = new Map<string, ContainerInfo>();
  private readonly nodes = new Map<
    string,
    { sealed: boolean; progress: number; active: boolean }
  >();
  private nextId = 1;
  /** Services whose container exits as soon as Compose starts it (a bad configuration). */
  readonly crashOnStart = new Set<string>();

  constructor(
    readonly project: string,
    readonly nodeCount: number,
    readonly threshold = 3,
  ) {}

  private url(index: number) {
    return `http://127.0.0.1:${10_000 + index}`;
  }

  private container(service: string, state: string, port?: number): ContainerInfo {
    const existing = this.containers.get(service);
    const info: ContainerInfo = {
      id: existing?.id ?? `id-${this.nextId++}`,
      name: `${this.project}-${service}-1`,
      service,
      state,
      health: state === "running" ? "healthy" : undefined,
      publishedPorts: new Map(port ? [[port === 8000 ? 8000 : 8200, port]] : []),
      labels: { "com.docker.compose.project": this.project },
      created: 0,
      image: "image",
    };
    this.containers.set(service, info);
    return info;
  }

  /** Every Vault container restarts: each node comes back sealed. */
  restartAll(): void {
    for (const node of this.nodes.values())
      Object.assign(node, { sealed: true, progress: 0, active: false });
  }

  get activeNode(): string | undefined {
    const index = [...this.nodes.entries()].find(([, node]) => node.active)?.[0];
    return index === undefined ? undefined : `vault-${Number(new URL(index).port) - 10_000}`;
  }

  private electIfNeeded(): void {
    if ([...this.nodes.values()].some((node) => node.active && !node.sealed)) return;
    const candidate = [...this.nodes.values()].find((node) => !node.sealed);
    if (candidate) candidate.active = true;
  }

  readonly compose: ComposeCli = {
    version: async () => "2.26.1",
    build: async () => {
      this.calls.push("compose build");
    },
    start: async (_target, { services }) => {
      this.calls.push(`compose start ${services.join(" ")}`);
      for (const service of services) {
        if (this.crashOnStart.has(service)) {
          this.container(service, "exited");
          continue;
        }
        if (service === "dynamodb") {
          this.container("dynamodb", "running", 8000);
          continue;
        }
        const index = Number(service.replace("vault-", ""));
        this.container(service, "running", 10_000 + index);
        if (!this.nodes.has(this.url(index)))
          this.nodes.set(this.url(index), { sealed: true, progress: 0, active: false });
      }
    },
    down: async () => {
      this.calls.push("compose down");
      this.containers.clear();
      this.nodes.clear();
    },
    logs: async () => {},
    exec: async () => ({ exitCode: 0, output: "" }),
  };

  docker: DockerEngine = {
    ping: async () => {},
    listProjectContainers: async () => [...this.containers.values()],
    listContainers: async () => [...this.containers.values()],
    containersPublishing: async () => [],
    imageId: async () => undefined,
    listVolumes: async (labels) =>
      labels["dev.vault-ha.role"] === "dynamodb-data"
        ? [{ name: `${this.project}_dynamodb-data`, labels: {} }]
        : [],
    removeVolume: async (name) => {
      this.calls.push(`remove volume ${name}`);
    },
    removeImageIfUnused: async () => {},
    listNetworks: async () => [],
    removeNetwork: async () => {},
    removeContainer: async () => {},
    stopContainer: async () => {},
    startContainer: async () => {},
    killContainer: async () => {},
    engineInfo: async () => ({
      serverVersion: "20.10.24",
      apiVersion: "1.41",
      operatingSystem: "Debian",
      rootless: false,
      podman: false,
    }),
  };

  readonly dynamodb = (): DynamoDbTable => ({
    describe: async () => ({ status: "ACTIVE", itemCount: 1 }),
    ensureTable: async () => {
      this.calls.push("ensure table");
      return "created";
    },
    haLock: async () => undefined,
    close: () => {},
  });

  readonly vault = (url: string): VaultNodeClient => {
    const node = () => {
      const found = this.nodes.get(url);
      if (!found) throw new VaultUnreachableError(`GET ${url}: ECONNREFUSED`);
      return found;
    };
    return {
      url,
      health: async () => {
        const current = node();
        return {
          initialized: this.initialized,
          sealed: !this.initialized || current.sealed,
          standby: !current.active,
          version: "1.21.1",
        };
      },
      init: async () => {
        this.calls.push("init");
        this.initialized = true;
        if (this.loseNextInitAnswer) {
          this.loseNextInitAnswer = false;
          throw new VaultUnreachableError(`PUT ${url}/v1/sys/init: no answer within 60000 ms`);
        }
        return { keys: this.keys, keysBase64: this.keys, rootToken: "root" };
      },
      unseal: async (key) => {
        const current = node();
        if (this.keys.includes(key)) current.progress++;
        if (current.progress >= this.threshold) current.sealed = false;
        this.electIfNeeded();
        return { sealed: current.sealed, progress: current.progress };
      },
      leader: async () => ({ haEnabled: true, isSelf: node().active, leaderAddress: "" }),
      stepDown: async () => {
        this.calls.push("step-down");
        const current = node();
        current.active = false;
        const next = [...this.nodes.values()].find((other) => other !== current && !other.sealed);
        if (next) next.active = true;
      },
      seal: async () => {
        const current = node();
        Object.assign(current, { sealed: true, progress: 0, active: false });
        this.electIfNeeded();
      },
      write: async () => ({}),
      read: async () => ({}),
      request: async () => ({}),
    };
  };
}
