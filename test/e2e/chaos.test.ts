import { readFile } from "node:fs/promises";
import path from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, withTempDir } from "../support/cli.js";
import { docker, projectResources, publishedNodeUrls } from "../support/docker.js";
import { testProject } from "../support/names.js";
import { haLockItem, waitOneActive } from "../support/oracle.js";
import { eventually, vaultRequest } from "../support/vault-http.js";

// `vault-ha chaos` (issue 15) on a real 3-node cluster: faults on the active
// node under a write workload, and every claim of its report checked against
// Vault itself (raw HTTP with the root token from the state folder).

interface Ack {
  path: string;
  writer: number;
  sequence: number;
  version: number;
  value: string;
  t: number;
}
interface Report {
  runId: string;
  rounds: {
    fault: string;
    round: number;
    node: string;
    acknowledged: number;
    lost: number;
    notes: string[];
  }[];
  reads: { attempted: number; ok: number; stale: number };
  summary: { fault: string; rounds: number; lost: number }[];
  writes: { acknowledged: number; lost: string[]; wrongValue: string[]; outOfOrder: string[] };
  acks: Ack[];
  passed: boolean;
}

/**
 * Parses `text` as XML (fast-xml-parser's validator rejects anything that
 * is not one well-formed element tree) and returns its root's name and every
 * element's start tag, attributes included.
 */
function parseXmlTags(text: string): { root: string; tags: string[] } {
  const valid = XMLValidator.validate(text);
  if (valid !== true)
    throw new Error(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  const tree = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "",
    preserveOrder: true,
  }).parse(text) as XmlNode[];
  const tags: string[] = [];
  const visit = (nodes: readonly XmlNode[]) => {
    for (const node of nodes) {
      const name = Object.keys(node).find((key) => key !== ":@" && key !== "#text");
      if (!name || name.startsWith("?")) continue;
      const attributes = Object.entries((node[":@"] ?? {}) as Record<string, string>)
        .map(([key, value]) => ` ${key}="${value}"`)
        .join("");
      tags.push(`<${name}${attributes}>`);
      visit(node[name] as XmlNode[]);
    }
  };
  visit(tree);
  const root = (tags[0] ?? "").match(/^<([^\s>]+)/)?.[1] ?? "";
  return { root, tags };
}

type XmlNode = Record<string, unknown>;

describe("vault-ha chaos", () => {
  const project = testProject("chaos");

  /** Each node's URL read from Docker now: a restart gives a container new host ports. */
  const urls = () => publishedNodeUrls(project, ["vault-1", "vault-2", "vault-3"]);

  const rootToken = async () =>
    (
      JSON.parse(
        await readFile(
          path.join(process.env.XDG_STATE_HOME as string, "vault-ha", project, "init.json"),
          "utf8",
        ),
      ) as { rootToken: string }
    ).rootToken;

  /** Every Vault container's id and start time, from Docker. */
  const starts = async () => {
    const containers = await docker.listContainers({
      all: true,
      filters: { label: [`com.docker.compose.project=${project}`] },
    });
    return Promise.all(
      containers.map(async (container) => {
        const inspect = await docker.getContainer(container.Id).inspect();
        return `${container.Id} ${inspect.State.StartedAt} ${inspect.State.Status}`;
      }),
    );
  };

  beforeAll(async () => {
    const result = await runCli(
      ["up", "--ephemeral", "--project", project, "--nodes", "3", "--json"],
      {
        timeout: 600_000,
      },
    );
    expect(result.exitCode, result.stderr).toBe(0);
  });

  afterAll(async () => {
    const reset = await runCli(["reset", "--yes", "--project", project]);
    expect(reset.exitCode, reset.stderr).toBe(0);
    expect(await projectResources(project)).toEqual({ containers: [], networks: [], volumes: [] });
  });

  it("refuses dynamodb-restart on an in-memory DynamoDB, before any fault", async () => {
    const before = await starts();
    expect(before.length).toBeGreaterThanOrEqual(4);
    const result = await runCli([
      "chaos",
      "--project",
      project,
      "--faults",
      "kill,dynamodb-restart",
    ]);
    expect(result.exitCode, result.stderr).toBe(2);
    expect(result.stderr).toMatch(
      /dynamodb-restart is refused: DynamoDB Local of project \S+ keeps its data in memory/,
    );
    expect(result.stdout).toBe("");
    const badDuration = await runCli(["chaos", "--project", project, "--duration", "5x"]);
    expect(badDuration.exitCode).toBe(2);
    expect(badDuration.stderr).toContain("--duration 5x is not a duration");
    // Nothing was killed or restarted: the same containers, started at the same times.
    expect(await starts()).toEqual(before);
    await waitOneActive(await urls(), 10_000);
  });

  it("kill, stop and partition, 2 rounds each under 2 writers: every acknowledged write reads back from Vault", async () => {
    await withTempDir(async (dir) => {
      const result = await runCli(
        [
          "chaos",
          "--project",
          project,
          "--faults",
          "kill,stop,partition",
          "--rounds",
          "2",
          "--writers",
          "2",
          "--json",
          "--report",
          dir,
        ],
        { timeout: 540_000 },
      );
      expect(result.exitCode, result.stderr).toBe(0);
      const printed = JSON.parse(result.stdout) as Report;
      const report = JSON.parse(await readFile(path.join(dir, "report.json"), "utf8")) as Report;
      expect(printed).toEqual(report);
      expect(report.passed).toBe(true);
      expect(report.rounds.map((round) => `${round.fault} ${round.round}`)).toEqual([
        "kill 1",
        "kill 2",
        "stop 1",
        "stop 2",
        "partition 1",
        "partition 2",
      ]);
      for (const round of report.rounds) {
        expect(round.node).toMatch(/^vault-[123]$/);
        expect(round.acknowledged).toBeGreaterThan(0);
        expect(round.lost).toBe(0);
      }
      expect(report.writes.lost).toEqual([]);
      expect(report.writes.wrongValue).toEqual([]);
      expect(report.writes.outOfOrder).toEqual([]);
      expect(report.acks.length).toBe(report.writes.acknowledged);
      expect(new Set(report.acks.map((ack) => ack.writer))).toEqual(new Set([1, 2]));

      const markdown = await readFile(path.join(dir, "report.md"), "utf8");
      expect(markdown).toMatch(/\| fault \| rounds \| gap p50 \|/);
      for (const fault of ["kill", "stop", "partition"])
        expect(markdown).toMatch(new RegExp(`\\| ${fault} \\| 2 \\| \\d+\\.\\d s`));

      const svg = parseXmlTags(await readFile(path.join(dir, "timeline.svg"), "utf8"));
      expect(svg.root).toBe("svg");
      expect(
        svg.tags.filter((tag) => tag.includes(`aria-roledescription="tick"`)).length,
      ).toBeGreaterThan(0);
      expect(svg.tags.filter((tag) => tag.startsWith("<path")).length).toBeGreaterThan(10);

      // Independently of vault-ha: a sample of the acknowledged writes, read
      // from the active node with the root token from the state folder.
      const urlsNow = await urls();
      const { activeIndex } = await waitOneActive(urlsNow, 60_000);
      const active = urlsNow[activeIndex] as string;
      const token = await rootToken();
      const step = Math.max(1, Math.floor(report.acks.length / 40));
      const sample = report.acks.filter((_, index) => index % step === 0);
      sample.push(report.acks.at(-1) as Ack);
      for (const ack of sample) {
        const read = await vaultRequest(active, "GET", ack.path, { token });
        expect(read.status, ack.path).toBe(200);
        const data = read.body.data as { data: { value: string }; metadata: { version: number } };
        expect(data.data.value, ack.path).toBe(ack.value);
        expect(data.metadata.version, ack.path).toBe(ack.version);
      }
      // And a path never written is absent: the reads above can fail.
      const missing = await vaultRequest(active, "GET", `chaos/data/run-${report.runId}/w9-1`, {
        token,
      });
      expect(missing.status).toBe(404);
    });
    await waitOneActive(await urls(), 60_000);
  });

  it("restart-all, dynamodb-pause and seal: healed by up, no write lost", async () => {
    const vaultStarts = async () =>
      Promise.all(
        (
          await docker.listContainers({
            filters: {
              label: [`com.docker.compose.project=${project}`, "dev.vault-ha.role=vault"],
            },
          })
        ).map(
          async (container) => (await docker.getContainer(container.Id).inspect()).State.StartedAt,
        ),
      );
    const before = await vaultStarts();
    expect(before).toHaveLength(3);
    const result = await runCli(
      [
        "chaos",
        "--project",
        project,
        "--faults",
        "restart-all,dynamodb-pause,seal",
        "--duration",
        "16s",
        "--writers",
        "2",
        "--json",
      ],
      { timeout: 540_000 },
    );
    expect(result.exitCode, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as Report;
    expect(report.rounds.map((round) => round.fault)).toEqual([
      "restart-all",
      "dynamodb-pause",
      "seal",
    ]);
    expect(report.writes.lost).toEqual([]);
    for (const round of report.rounds) expect(round.acknowledged).toBeGreaterThan(0);
    expect(report.rounds[1]?.notes).toContain("paused DynamoDB Local for 16 s");
    // Readers went through every node: some answered with the acknowledged writes.
    expect(report.reads.ok).toBeGreaterThan(0);
    // restart-all restarted every Vault container: none kept its start time.
    const after = await vaultStarts();
    expect(after).toHaveLength(3);
    for (const started of after) expect(before).not.toContain(started);
    const token = await rootToken();
    const urlsNow = await urls();
    const { activeIndex } = await waitOneActive(urlsNow, 60_000);
    const last = report.acks.at(-1) as Ack;
    const read = await vaultRequest(urlsNow[activeIndex] as string, "GET", last.path, { token });
    expect((read.body.data as { data: { value: string } }).data.value).toBe(last.value);
  });
  it("status raises the lock alarm once the HA lock stays expired with no active node, and clears it after up", async () => {
    const urlsNow = await urls();
    const { activeIndex } = await waitOneActive(urlsNow, 60_000);
    const containers = await docker.listContainers({
      filters: { label: [`com.docker.compose.project=${project}`, "dev.vault-ha.role=vault"] },
    });
    const service = (id: string) =>
      containers.find((container) => container.Id === id)?.Labels["com.docker.compose.service"];
    // The active node dies without releasing the lock; the standbys stop, so none takes it.
    const active = containers.find(
      (container) => service(container.Id) === `vault-${activeIndex + 1}`,
    );
    await docker.getContainer((active as { Id: string }).Id).kill();
    for (const container of containers.filter((candidate) => candidate !== active))
      await docker.getContainer(container.Id).stop({ t: 2 });
    const dynamodbPort = (
      await docker.listContainers({
        filters: {
          label: [`com.docker.compose.project=${project}`, "com.docker.compose.service=dynamodb"],
        },
      })
    )[0]?.Ports.find((entry) => entry.PrivatePort === 8000 && entry.PublicPort)?.PublicPort;
    const alarmed = await eventually("the lock alarm in status", 120_000, async () => {
      const result = await runCli(["status", "--project", project]);
      return result.stdout.includes("ALARM") ? result : undefined;
    });
    expect(alarmed.exitCode).toBe(4);
    expect(alarmed.stdout).toMatch(
      /ALARM the HA lock expired \d+ s ago and no node is active: no unsealed node can take it/,
    );
    // Independently: the lock item in DynamoDB expired at least 30 s ago.
    const lock = await haLockItem(`http://127.0.0.1:${dynamodbPort}`);
    expect(lock).toBeDefined();
    expect(Date.now() - (lock as { expiresAt: Date }).expiresAt.getTime()).toBeGreaterThan(30_000);
    const up = await runCli(["up", "--project", project]);
    expect(up.exitCode, up.stderr).toBe(0);
    await waitOneActive(await urls(), 60_000);
    const calm = await runCli(["status", "--project", project]);
    expect(calm.exitCode, calm.stdout).toBe(0);
    expect(calm.stdout).not.toContain("ALARM");
  });
});
