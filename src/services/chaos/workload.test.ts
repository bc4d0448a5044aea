import { describe, expect, it } from "vitest";
import { VaultApiError, type VaultNodeClient } from "../../adapters/vault/vault-node-client.js";
import { sleep } from "../wait.js";
import { ChaosObserver, ChaosReaders, ChaosTargets, ChaosWorkload } from "./workload.js";

// Logic only, against fake nodes: what is recorded as acknowledged, and
// where the writers are sent. The real thing is test/e2e/chaos.test.ts.

function fakeNode(url: string, state: { active: boolean; down?: boolean; writes: string[] }) {
  return {
    url,
    async health() {
      if (state.down) throw new Error("ECONNREFUSED");
      return { initialized: true, sealed: false, standby: !state.active, version: "1.21.1" };
    },
    async leader() {
      if (state.down) throw new Error("ECONNREFUSED");
      return { haEnabled: true, isSelf: state.active, leaderAddress: "" };
    },
    async request(_method: string, path: string) {
      if (state.down || !state.active) throw new Error("refused");
      state.writes.push(path);
      return { data: { version: 1 } };
    },
  } as unknown as VaultNodeClient;
}

function world() {
  const clock = { t: 0 };
  const nodes = {
    "http://one": { active: true, writes: [] as string[] },
    "http://two": { active: false, writes: [] as string[] },
  } as Record<string, { active: boolean; down?: boolean; writes: string[] }>;
  const targets = new ChaosTargets(() => (clock.t += 1));
  targets.setNodes([
    { name: "vault-1", url: "http://one" },
    { name: "vault-2", url: "http://two" },
    { name: "vault-3", url: undefined },
  ]);
  const clientFor = (url: string) => fakeNode(url, nodes[url] as never);
  return { nodes, targets, clientFor };
}

describe("ChaosTargets", () => {
  it("sends writes to the active node, and every other one through a balancer", () => {
    const targets = new ChaosTargets(() => 0);
    targets.setNodes([{ name: "vault-1", url: "http://one" }]);
    expect(targets.writeTarget(1, 1)).toBeUndefined();
    targets.active = "vault-1";
    expect(targets.writeTarget(1, 1)).toEqual({ via: "vault-1", url: "http://one" });
    targets.setNodes([{ name: "vault-1", url: "http://one" }], "http://lb");
    expect(targets.writeTarget(1, 1)).toEqual({ via: "vault-1", url: "http://one" });
    expect(targets.writeTarget(1, 2)).toEqual({ via: "lb", url: "http://lb" });
  });
});

describe("ChaosObserver and ChaosWorkload", () => {
  it("record who claims active, follow a failover, and count only acknowledged writes", async () => {
    const { nodes, targets, clientFor } = world();
    const observer = new ChaosObserver(targets, clientFor, 5);
    const workload = new ChaosWorkload(targets, clientFor, "token", "chaos/data/run-t", 1);
    observer.start();
    workload.start(2);
    await sleep(60);
    // vault-1 dies, vault-2 takes over.
    (nodes["http://one"] as { down: boolean }).down = true;
    (nodes["http://two"] as { active: boolean }).active = true;
    await sleep(120);
    await workload.stop();
    await observer.stop();

    expect(observer.samples[0]?.active).toEqual(["vault-1"]);
    expect(observer.samples.at(-1)?.active).toEqual(["vault-2"]);
    expect(targets.active).toBe("vault-2");
    const vias = new Set(workload.acks.map((ack) => ack.via));
    expect(vias).toEqual(new Set(["vault-1", "vault-2"]));
    const written = [
      ...(nodes["http://one"]?.writes ?? []),
      ...(nodes["http://two"]?.writes ?? []),
    ];
    expect(workload.acks.map((ack) => ack.path).sort()).toEqual(written.sort());
    expect(new Set(written).size).toBe(written.length);
    expect(workload.attempted).toBeGreaterThanOrEqual(workload.acks.length);
    for (const ack of workload.acks) expect(ack.path).toMatch(/^chaos\/data\/run-t\/w[12]-\d+$/);
  });
});

describe("ChaosReaders", () => {
  it("read acknowledged writes through every node and tell current, stale and unanswered apart", async () => {
    const targets = new ChaosTargets(() => 0);
    targets.setNodes([
      { name: "vault-1", url: "http://current" },
      { name: "vault-2", url: "http://stale" },
      { name: "vault-3", url: "http://down" },
    ]);
    const asked = new Set<string>();
    const clientFor = (url: string) =>
      ({
        url,
        async request() {
          asked.add(url);
          if (url === "http://down") throw new Error("ECONNREFUSED");
          // A read that misses the acknowledged write answers 404 (undefined).
          if (url === "http://stale") throw new VaultApiError("GET: Vault answered 404", 404);
          return { data: { data: { value: "v" }, metadata: { version: 1 } } };
        },
      }) as unknown as VaultNodeClient;
    const acks = [
      {
        path: "chaos/data/p",
        writer: 1,
        sequence: 1,
        version: 1,
        value: "v",
        t: 0,
        via: "vault-1",
      },
    ];
    const readers = new ChaosReaders(targets, clientFor, "token", acks, 1);
    readers.start(1);
    await sleep(80);
    await readers.stop();
    expect(asked).toEqual(new Set(["http://current", "http://stale", "http://down"]));
    const { tally } = readers;
    expect(tally.ok).toBeGreaterThan(0);
    expect(tally.failed).toBeGreaterThan(0);
    expect(tally.stale).toBeGreaterThan(0);
    expect(tally.staleReads[0]).toMatchObject({ path: "chaos/data/p", via: "vault-2" });
    expect(tally.ok + tally.failed + tally.stale).toBe(tally.attempted);
  });
});
