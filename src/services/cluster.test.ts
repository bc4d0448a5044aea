import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { FakeClusterWorld } from "../../test/support/fake-cluster-world.js";
import { createKeyStore } from "../adapters/fs/key-store.js";
import { configSchema } from "../core/config-schema.js";
import { ClusterNotHealthyError } from "../core/errors.js";
import { SILENT } from "../core/progress.js";
import { ClusterService } from "./cluster.js";

// The cluster service's flows against a pretend engine and Vault (see
// FakeClusterWorld), with the real key store, lock and Compose renderer in a
// temporary folder.
let dir: string;
let world: FakeClusterWorld;
let service: ClusterService;

function makeService(input: Record<string, unknown> = {}) {
  const config = configSchema.parse({ project: "unit", nodes: 3, ...input });
  return new ClusterService(config, {
    docker: world.docker,
    compose: world.compose,
    vault: world.vault,
    dynamodb: world.dynamodb,
    kms: () => {
      throw new Error("no KMS in these tests");
    },
    keys: createKeyStore(path.join(dir, "state"), "unit"),
    progress: SILENT,
    composeFile: path.join(dir, "compose.generated.yml"),
  });
}

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "vault-ha-flow-"));
  world = new FakeClusterWorld("unit", 3);
  service = makeService();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const keysFile = () => path.join(dir, "state", "unit", "init.json");

describe("up", () => {
  it("from nothing: starts, initialises once, unseals every node, one active", async () => {
    const result = await service.up({ waitBudgetMs: 2_000 });
    expect(result).toMatchObject({ changed: true, initialized: true });
    expect([...result.unsealed].sort()).toEqual(["vault-1", "vault-2", "vault-3"]);
    expect(result.status.summary).toBe("healthy");
    expect(result.status.active).toBe(world.activeNode);
    // DynamoDB, then the table, then the nodes: a node started before the
    // table exists would race the others to create it.
    expect(world.calls).toEqual([
      "compose build",
      "compose start dynamodb",
      "ensure table",
      "compose start vault-1 vault-2 vault-3",
      "init",
    ]);
    const stored = JSON.parse(await readFile(keysFile(), "utf8"));
    expect(stored).toMatchObject({ rootToken: "root", keyShares: 5, keyThreshold: 3 });
    expect(stored.storage).toBe("dynamodb-volume:unit_dynamodb-data");
    // The init marker is gone once the keys are saved.
    expect(existsSync(path.join(dir, "state", "unit", "init.pending"))).toBe(false);
  });

  it("a node whose container stops while starting ends the wait at once, naming it", async () => {
    world.crashOnStart.add("vault-2");
    const started = performance.now();
    const error = await service.up({ waitBudgetMs: 60_000 }).catch((caught: unknown) => caught);
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(ClusterNotHealthyError);
    expect((error as Error).message).toBe("vault-2 stopped (exited) while the cluster started");
    expect((error as ClusterNotHealthyError).next).toEqual({ kind: "logs", service: "vault-2" });
  });

  it("a DynamoDB that stops while starting ends the wait before any node starts", async () => {
    world.crashOnStart.add("dynamodb");
    const error = await service.up({ waitBudgetMs: 60_000 }).catch((caught: unknown) => caught);
    expect((error as Error).message).toBe("dynamodb stopped (exited) while the cluster started");
    expect(world.calls).not.toContain("compose start vault-1 vault-2 vault-3");
  });

  it("on a healthy cluster: changes nothing, runs no Compose and no init", async () => {
    await service.up({ waitBudgetMs: 2_000 });
    world.calls.length = 0;
    const again = await makeService().up({ waitBudgetMs: 2_000 });
    expect(again).toMatchObject({ changed: false, initialized: false, unsealed: [] });
    expect(world.calls).toEqual([]);
  });

  it("after every node restarted (sealed): unseals them with the stored keys, no init", async () => {
    await service.up({ waitBudgetMs: 2_000 });
    world.restartAll();
    world.calls.length = 0;
    const healed = await makeService().up({ waitBudgetMs: 2_000 });
    expect(healed.initialized).toBe(false);
    expect([...healed.unsealed].sort()).toEqual(["vault-1", "vault-2", "vault-3"]);
    expect(healed.status.summary).toBe("healthy");
    expect(world.calls).not.toContain("init");
  });

  it("an init whose answer was lost: refused now, and the next up says why the keys are missing", async () => {
    world.loseNextInitAnswer = true;
    await expect(service.up({ waitBudgetMs: 2_000 })).rejects.toMatchObject({
      exitCode: 5,
      message: expect.stringMatching(/vault-\d was initialised by an answer that never arrived/),
    });
    await expect(makeService().up({ waitBudgetMs: 2_000 })).rejects.toMatchObject({
      exitCode: 5,
      message: expect.stringMatching(
        /^the cluster was initialised by an answer that never arrived/,
      ),
    });
  });

  it("an initialised cluster without keys (and no init under way): refused, naming the keys file", async () => {
    await service.up({ waitBudgetMs: 2_000 });
    await rm(keysFile());
    await expect(makeService().up({ waitBudgetMs: 2_000 })).rejects.toMatchObject({
      exitCode: 5,
      message: expect.stringContaining(`its keys are not in ${keysFile()}`),
    });
  });
});

describe("preflight", () => {
  it("a port below 1024 on a rootless engine is refused before anything starts", async () => {
    world.docker.engineInfo = async () => ({
      serverVersion: "20.10.24",
      apiVersion: "1.41",
      operatingSystem: "Debian",
      rootless: true,
      podman: false,
    });
    await expect(makeService({ vault: { hostPort: 80 } }).up()).rejects.toMatchObject({
      exitCode: 5,
      message: expect.stringContaining("a rootless Docker engine cannot publish ports below"),
      next: { kind: "other-ports" },
    });
    expect(world.calls).toEqual([]);
    expect(existsSync(path.join(dir, "compose.generated.yml"))).toBe(false);
  });

  it("the same port on a rootful engine is left to the engine (its docker-proxy binds it)", async () => {
    const result = await makeService({ vault: { hostPort: 80 } }).up({ waitBudgetMs: 2_000 });
    expect(result.status.summary).toBe("healthy");
  });
});

describe("node operations and teardown", () => {
  it("step-down: another node takes the lock; the service reports who and how long", async () => {
    await service.up({ waitBudgetMs: 2_000 });
    const before = world.activeNode;
    const moved = await service.stepDown(2_000);
    expect(moved.from).toBe(before);
    expect(moved.to).toBe(world.activeNode);
    expect(moved.to).not.toBe(before);
    expect(moved.elapsedMs).toBeGreaterThanOrEqual(0);
  });

  it("reset: Compose down, the labelled data volume, and the state folder go", async () => {
    await service.up({ waitBudgetMs: 2_000 });
    world.calls.length = 0;
    const result = await service.reset();
    expect(result).toEqual({
      volumes: ["unit_dynamodb-data"],
      stateDir: path.join(dir, "state", "unit"),
    });
    expect(world.calls).toEqual(["compose down", "remove volume unit_dynamodb-data"]);
    expect(existsSync(path.join(dir, "state", "unit"))).toBe(false);
  });
});
