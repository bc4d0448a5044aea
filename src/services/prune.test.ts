import { describe, expect, it } from "vitest";
import type { ContainerInfo, NetworkInfo, VolumeInfo } from "../adapters/docker/docker-engine.js";
import {
  COMPOSE_PROJECT_LABEL,
  LABEL_EPHEMERAL,
  LABEL_PROJECT,
  LABEL_SESSION,
} from "../core/labels.js";
import { type Session, sessionLabels } from "../core/session.js";
import {
  findEphemeralClusters,
  type PruneEngine,
  processIsAlive,
  pruneClusters,
  removeSession,
} from "./prune.js";

type Labels = Record<string, string>;
const matches = (labels: Labels, filter: Readonly<Labels>) =>
  Object.entries(filter).every(([key, value]) => labels[key] === value);

/**
 * An engine holding containers, networks and volumes in memory, filtering by
 * labels the way Docker does (every given label must match), refusing to
 * remove a network or volume a container still uses, and treating what is
 * already gone as removed. Every call is logged.
 */
function fakeEngine() {
  const containers = new Map<string, ContainerInfo>();
  const networks = new Map<string, NetworkInfo>();
  const volumes = new Map<string, VolumeInfo>();
  const log: string[] = [];
  const engine: PruneEngine = {
    async listContainers(labels, options) {
      log.push(`list containers all=${options?.all === true}`);
      return [...containers.values()].filter(
        (container) =>
          matches(container.labels, labels) && (options?.all || container.state === "running"),
      );
    },
    async removeContainer(id) {
      log.push(`remove container ${id}`);
      containers.delete(id);
    },
    async listNetworks(labels) {
      log.push("list networks");
      return [...networks.values()].filter((network) => matches(network.labels, labels));
    },
    async removeNetwork(id) {
      log.push(`remove network ${id}`);
      const network = networks.get(id);
      if (network && [...containers.values()].some((c) => c.labels.network === network.name))
        throw new Error(`network ${id} has active endpoints`);
      networks.delete(id);
    },
    async listVolumes(labels) {
      log.push("list volumes");
      return [...volumes.values()].filter((volume) => matches(volume.labels, labels));
    },
    async removeVolume(name) {
      log.push(`remove volume ${name}`);
      if ([...containers.values()].some((c) => c.labels.volume === name))
        throw new Error(`volume ${name} is in use`);
      volumes.delete(name);
    },
  };
  const container = (id: string, labels: Labels, state = "running") =>
    containers.set(id, {
      id,
      name: `${id}-name`,
      service: "vault-1",
      state,
      health: undefined,
      publishedPorts: new Map(),
      labels,
      created: 0,
      image: "hashicorp/vault:1.21.1",
    });
  const network = (id: string, name: string, labels: Labels) =>
    networks.set(id, { id, name, labels });
  const volume = (name: string, labels: Labels) => volumes.set(name, { name, labels });
  return { engine, log, containers, networks, volumes, container, network, volume };
}

const alive: Session = {
  id: "s-alive",
  ownerPid: 100,
  ownerHost: "box",
  startedAt: "2026-11-30T10:00:00.000Z",
};
const dead: Session = {
  id: "s-dead",
  ownerPid: 200,
  ownerHost: "box",
  startedAt: "2026-11-30T09:00:00.000Z",
};
const remote: Session = {
  id: "s-remote",
  ownerPid: 100,
  ownerHost: "elsewhere",
  startedAt: "2026-11-30T08:00:00.000Z",
};
const here = {
  host: "box",
  now: new Date("2026-11-30T10:30:00.000Z"),
  isAlive: (pid: number) => pid === 100,
};
const labelsOf = (session: Session, project: string, extra: Labels = {}): Labels => ({
  ...sessionLabels(session),
  [LABEL_PROJECT]: project,
  [COMPOSE_PROJECT_LABEL]: project,
  ...extra,
});

/** Two clusters on this host (one owner alive, one dead), one on another host, and bystanders. */
function populated() {
  const fake = fakeEngine();
  fake.container(
    "d-vault-2",
    labelsOf(dead, "vha-dead", { network: "vha-dead_default" }),
    "exited",
  );
  fake.container("d-vault-1", labelsOf(dead, "vha-dead", { network: "vha-dead_default" }));
  fake.container(
    "d-dynamodb",
    labelsOf(dead, "vha-dead", { network: "vha-dead_default", volume: "vha-dead_data" }),
  );
  fake.network("n-dead", "vha-dead_default", labelsOf(dead, "vha-dead"));
  fake.volume("vha-dead_data", labelsOf(dead, "vha-dead"));
  fake.container("a-vault-1", labelsOf(alive, "vha-alive"));
  fake.network("n-alive", "vha-alive_default", labelsOf(alive, "vha-alive"));
  fake.container("r-vault-1", labelsOf(remote, "vha-remote"));
  // Bystanders: a persistent project, and a resource marked ephemeral but with no session.
  fake.container("vault-ha-vault-1", {
    [COMPOSE_PROJECT_LABEL]: "vault-ha",
    [LABEL_PROJECT]: "vault-ha",
  });
  fake.volume("vault-ha_dynamodb-data", { [LABEL_PROJECT]: "vault-ha" });
  fake.container("half-labelled", { [LABEL_EPHEMERAL]: "true", [LABEL_PROJECT]: "vha-half" });
  fake.network("n-half", "vha-half_default", { [LABEL_EPHEMERAL]: "true" });
  fake.volume("vha-half_data", { [LABEL_EPHEMERAL]: "true" });
  return fake;
}

describe("findEphemeralClusters", () => {
  it("groups resources by session, sorted by project, each with its verdict", async () => {
    const fake = populated();
    const clusters = await findEphemeralClusters(fake.engine, here);
    expect(clusters).toEqual([
      {
        project: "vha-alive",
        session: alive,
        containers: ["a-vault-1-name"],
        networks: ["vha-alive_default"],
        volumes: [],
        verdict: { prune: false, reason: "owner process 100 is running" },
      },
      {
        project: "vha-dead",
        session: dead,
        containers: ["d-dynamodb-name", "d-vault-1-name", "d-vault-2-name"],
        networks: ["vha-dead_default"],
        volumes: ["vha-dead_data"],
        verdict: { prune: true, reason: "owner process 200 is gone" },
      },
      {
        project: "vha-remote",
        session: remote,
        containers: ["r-vault-1-name"],
        networks: [],
        volumes: [],
        verdict: { prune: false, reason: "owned by a process on elsewhere" },
      },
    ]);
  });

  it("lists stopped containers too, and asks the engine only for ephemeral resources", async () => {
    const fake = populated();
    await findEphemeralClusters(fake.engine, here);
    expect(fake.log.sort()).toEqual(["list containers all=true", "list networks", "list volumes"]);
  });

  it("--older-than prunes by age, whoever the owner is", async () => {
    const fake = populated();
    const clusters = await findEphemeralClusters(fake.engine, { ...here, olderThanMs: 3_600_000 });
    expect(clusters.map((cluster) => [cluster.project, cluster.verdict])).toEqual([
      ["vha-alive", { prune: false, reason: "owner process 100 is running" }],
      ["vha-dead", { prune: true, reason: "started 90m ago" }],
      ["vha-remote", { prune: true, reason: "started 3h ago" }],
    ]);
  });

  it("names a cluster by Compose's project label when vault-ha's is missing, else '?'", async () => {
    const fake = fakeEngine();
    fake.container("c1", { ...sessionLabels(dead), [COMPOSE_PROJECT_LABEL]: "vha-compose" });
    fake.volume("v1", sessionLabels(alive));
    const clusters = await findEphemeralClusters(fake.engine, here);
    expect(clusters.map((cluster) => cluster.project)).toEqual(["?", "vha-compose"]);
  });

  it("the first resource seen names the cluster's project", async () => {
    const fake = fakeEngine();
    fake.container("c1", labelsOf(dead, "vha-one"));
    fake.network("n1", "net", labelsOf(dead, "vha-other"));
    const [cluster] = await findEphemeralClusters(fake.engine, here);
    expect(cluster?.project).toBe("vha-one");
    expect(cluster?.networks).toEqual(["net"]);
  });

  it("finds nothing on an engine without ephemeral resources", async () => {
    const fake = fakeEngine();
    fake.container("vault-ha-vault-1", { [LABEL_PROJECT]: "vault-ha" });
    expect(await findEphemeralClusters(fake.engine, here)).toEqual([]);
  });

  it("without options: this host, now, and a real liveness check", async () => {
    const fake = fakeEngine();
    const mine: Session = {
      id: "s-mine",
      ownerPid: process.pid,
      ownerHost: (await import("node:os")).hostname(),
      startedAt: new Date().toISOString(),
    };
    fake.container("m1", labelsOf(mine, "vha-mine"));
    const [cluster] = await findEphemeralClusters(fake.engine);
    expect(cluster?.verdict).toEqual({
      prune: false,
      reason: `owner process ${process.pid} is running`,
    });
  });
});

describe("removeSession", () => {
  it("removes containers, then networks, then volumes of that session only", async () => {
    const fake = populated();
    await removeSession(fake.engine, "s-dead");
    expect(fake.log).toEqual([
      "list containers all=true",
      "remove container d-vault-2",
      "remove container d-vault-1",
      "remove container d-dynamodb",
      "list networks",
      "remove network n-dead",
      "list volumes",
      "remove volume vha-dead_data",
    ]);
    expect([...fake.containers.keys()].sort()).toEqual([
      "a-vault-1",
      "half-labelled",
      "r-vault-1",
      "vault-ha-vault-1",
    ]);
    expect([...fake.networks.keys()].sort()).toEqual(["n-alive", "n-half"]);
    expect([...fake.volumes.keys()].sort()).toEqual(["vault-ha_dynamodb-data", "vha-half_data"]);
  });

  it("is idempotent: a second run finds nothing and removes nothing", async () => {
    const fake = populated();
    await removeSession(fake.engine, "s-dead");
    fake.log.length = 0;
    await removeSession(fake.engine, "s-dead");
    expect(fake.log).toEqual(["list containers all=true", "list networks", "list volumes"]);
  });

  it("a session id nobody carries removes nothing", async () => {
    const fake = populated();
    await removeSession(fake.engine, "s-unknown");
    expect(fake.log.filter((line) => line.startsWith("remove"))).toEqual([]);
    expect(fake.containers.size).toBe(7);
  });

  it("filters by the session label itself", async () => {
    const seen: Labels[] = [];
    const none = async (labels: Readonly<Labels>) => {
      seen.push({ ...labels });
      return [];
    };
    const engine: PruneEngine = {
      listContainers: none,
      listNetworks: none,
      listVolumes: none,
      removeContainer: async () => {},
      removeNetwork: async () => {},
      removeVolume: async () => {},
    };
    await removeSession(engine, "s-1");
    expect(seen).toEqual([
      { [LABEL_SESSION]: "s-1" },
      { [LABEL_SESSION]: "s-1" },
      { [LABEL_SESSION]: "s-1" },
    ]);
  });
});

describe("pruneClusters", () => {
  it("removes only the clusters whose verdict says so, and returns them", async () => {
    const fake = populated();
    const clusters = await findEphemeralClusters(fake.engine, here);
    const pruned = await pruneClusters(fake.engine, clusters);
    expect(pruned.map((cluster) => cluster.project)).toEqual(["vha-dead"]);
    expect([...fake.containers.keys()].sort()).toEqual([
      "a-vault-1",
      "half-labelled",
      "r-vault-1",
      "vault-ha-vault-1",
    ]);
    expect(fake.networks.has("n-alive")).toBe(true);
  });
});

describe("processIsAlive", () => {
  it("is true for this process and false for ids no process can have", () => {
    expect(processIsAlive(process.pid)).toBe(true);
    expect(processIsAlive(0)).toBe(false);
    expect(processIsAlive(-1)).toBe(false);
    expect(processIsAlive(Number.NaN)).toBe(false);
    // Above Linux's pid_max (2^22): kill(2) answers ESRCH.
    expect(processIsAlive(2_147_483_646)).toBe(false);
  });
});
