import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_VAULT_IMAGE } from "../../src/core/images.js";
import { PREVIOUS_VAULT_IMAGE } from "../support/bed-versions.js";
import { runCli, withTempDir } from "../support/cli.js";
import { docker, projectResources, publishedNodeUrls } from "../support/docker.js";
import { testProject } from "../support/names.js";
import { nodeTruth, waitOneActive } from "../support/oracle.js";
import { vaultRequest } from "../support/vault-http.js";

// `vault-ha upgrade` (issue 15): a 3-node cluster on an older real Vault
// release (built by the test bed) moves to the default release under a
// write workload. Versions, roles and writes are read from Vault itself.

const release = (image: string) => image.slice(image.lastIndexOf(":") + 1);

interface UpgradeJson {
  to: string;
  nodes: { name: string; from: string; to: string; elapsedMs: number }[];
  stepDown: { from: string; to: string };
  active: string;
  workload: { acknowledged: number; lost: number; writeGapMs: number; passed: boolean };
}

describe("vault-ha upgrade", () => {
  const project = testProject("upgrade");
  const names = ["vault-1", "vault-2", "vault-3"];

  /** Each node's URL from Docker now: a recreated container gets a new host port. */
  const urls = () => publishedNodeUrls(project, names);
  const versions = async () =>
    Promise.all(
      (await urls()).map(
        async (url) => (await vaultRequest(url, "GET", "sys/health")).body.version,
      ),
    );
  const containerIds = async () =>
    (
      await docker.listContainers({
        filters: { label: [`com.docker.compose.project=${project}`, "dev.vault-ha.role=vault"] },
      })
    )
      .map((container) => container.Id)
      .sort();

  beforeAll(async () => {
    const result = await runCli(
      [
        "up",
        "--ephemeral",
        "--project",
        project,
        "--nodes",
        "3",
        "--vault-image",
        PREVIOUS_VAULT_IMAGE,
        "--json",
      ],
      { timeout: 600_000 },
    );
    expect(result.exitCode, result.stderr).toBe(0);
  });

  afterAll(async () => {
    const reset = await runCli(["reset", "--yes", "--project", project]);
    expect(reset.exitCode, reset.stderr).toBe(0);
    expect(await projectResources(project)).toEqual({ containers: [], networks: [], volumes: [] });
  });

  it("moves every node from the older release to the default one under load: standbys first, no write lost", async () => {
    expect(release(PREVIOUS_VAULT_IMAGE)).not.toBe(release(DEFAULT_VAULT_IMAGE));
    expect(await versions()).toEqual(names.map(() => release(PREVIOUS_VAULT_IMAGE)));
    const before = await waitOneActive(await urls());
    const activeBefore = names[before.activeIndex] as string;
    await withTempDir(async (dir) => {
      const result = await runCli(
        [
          "upgrade",
          "--project",
          project,
          "--image",
          DEFAULT_VAULT_IMAGE,
          "--writers",
          "2",
          "--json",
          "--report",
          dir,
        ],
        { timeout: 900_000 },
      );
      expect(result.exitCode, result.stderr).toBe(0);
      const answer = JSON.parse(result.stdout) as UpgradeJson;
      // Standbys first, the node active before last, after it stepped down.
      expect(answer.nodes.map((node) => node.name).at(-1)).toBe(activeBefore);
      expect(answer.nodes.map((node) => node.name).sort()).toEqual(names);
      expect(answer.stepDown.from).toBe(activeBefore);
      for (const node of answer.nodes) {
        expect(node.from).toBe(release(PREVIOUS_VAULT_IMAGE));
        expect(node.to).toBe(release(DEFAULT_VAULT_IMAGE));
      }
      expect(answer.workload.lost).toBe(0);
      expect(answer.workload.acknowledged).toBeGreaterThan(0);
      // Every node answers with the new release, and exactly one is active (raw).
      expect(await versions()).toEqual(names.map(() => release(DEFAULT_VAULT_IMAGE)));
      const after = await waitOneActive(await urls());
      expect(names[after.activeIndex]).not.toBe(activeBefore);
      // The workload's writes are in Vault: a sample read back with the root token.
      const report = JSON.parse(await readFile(path.join(dir, "report.json"), "utf8")) as {
        acks: { path: string; value: string; version: number }[];
        writes: { lost: string[] };
      };
      expect(report.writes.lost).toEqual([]);
      const keys = JSON.parse(
        await readFile(
          path.join(process.env.XDG_STATE_HOME as string, "vault-ha", project, "init.json"),
          "utf8",
        ),
      ) as { rootToken: string };
      const activeUrl = (await urls())[after.activeIndex] as string;
      const sample = report.acks.filter((_, index) => index % 10 === 0);
      expect(sample.length).toBeGreaterThan(0);
      for (const ack of sample) {
        const read = await vaultRequest(activeUrl, "GET", ack.path, { token: keys.rootToken });
        expect(read.status, ack.path).toBe(200);
        const data = read.body.data as { data: { value: string }; metadata: { version: number } };
        expect(data.data.value).toBe(ack.value);
        expect(data.metadata.version).toBe(ack.version);
      }
    });
  });

  it("a later up keeps the upgraded image and changes nothing", async () => {
    const ids = await containerIds();
    const up = await runCli(["up", "--project", project]);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(up.stdout).toContain("nothing to do");
    expect(await containerIds()).toEqual(ids);
    expect(await versions()).toEqual(names.map(() => release(DEFAULT_VAULT_IMAGE)));
  });

  it("a downgrade is refused with exit 2 and the way to force it; nothing changes", async () => {
    const ids = await containerIds();
    const result = await runCli(["upgrade", "--project", project, "--image", PREVIOUS_VAULT_IMAGE]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("Vault does not support downgrades");
    expect(result.stderr).toContain("--force");
    expect(await containerIds()).toEqual(ids);
    const truths = await Promise.all((await urls()).map(nodeTruth));
    expect(truths.map((truth) => truth.health).sort()).toEqual([200, 429, 429]);
  });
});
