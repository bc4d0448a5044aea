import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, withTempDir } from "../support/cli.js";
import { docker, projectResources } from "../support/docker.js";
import { testProject } from "../support/names.js";
import { waitOneActive } from "../support/oracle.js";
import { vaultRequest } from "../support/vault-http.js";

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
  rounds: { fault: string; round: number; node: string; acknowledged: number; lost: number }[];
  summary: { fault: string; rounds: number; lost: number }[];
  writes: { acknowledged: number; lost: string[]; wrongValue: string[]; outOfOrder: string[] };
  acks: Ack[];
  passed: boolean;
}

/**
 * Checks that `text` is one well-formed XML element tree (tags open and
 * close in order, one root) and returns its root's name and every start tag.
 */
function parseXmlTags(text: string): { root: string; tags: string[] } {
  const body = text.replace(/<\?xml[^>]*\?>/, "").trim();
  const stack: string[] = [];
  const tags: string[] = [];
  let root = "";
  for (const match of body.matchAll(/<(\/?)([A-Za-z][\w:.-]*)([^>]*?)(\/?)>/g)) {
    const [, closing, name, attributes, selfClosing] = match as unknown as string[];
    if (closing) {
      const open = stack.pop();
      if (open !== name) throw new Error(`</${name}> closes <${open}>`);
      continue;
    }
    if (stack.length === 0) {
      if (root) throw new Error(`a second root element <${name}>`);
      root = name as string;
    }
    tags.push(`<${name}${attributes}>`);
    if (!selfClosing) stack.push(name as string);
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack.join("> <")}>`);
  return { root, tags };
}

describe("vault-ha chaos", () => {
  const project = testProject("chaos");

  /** Each node's URL read from Docker now: a restart gives a container new host ports. */
  const urls = async () =>
    Promise.all(
      ["vault-1", "vault-2", "vault-3"].map(async (name) => {
        const [info] = await docker.listContainers({
          filters: {
            label: [`com.docker.compose.project=${project}`, `com.docker.compose.service=${name}`],
          },
        });
        const port = info?.Ports.find(
          (entry) => entry.PrivatePort === 8200 && entry.PublicPort,
        )?.PublicPort;
        return `http://127.0.0.1:${port ?? 1}`;
      }),
    );

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
    // Nothing was killed or restarted: the same containers, started at the same times.
    expect(await starts()).toEqual(before);
    await waitOneActive(await urls(), 10_000);
  });

  it("kill, stop and partition under 2 writers: every acknowledged write reads back from Vault", async () => {
    await withTempDir(async (dir) => {
      const result = await runCli(
        [
          "chaos",
          "--project",
          project,
          "--faults",
          "kill,stop,partition",
          "--rounds",
          "1",
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
      expect(report.rounds.map((round) => round.fault)).toEqual(["kill", "stop", "partition"]);
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
        expect(markdown).toMatch(new RegExp(`\\| ${fault} \\| 1 \\| \\d+\\.\\d s`));

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
});
