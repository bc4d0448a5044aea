import type Docker from "dockerode";
import { afterAll, beforeAll, expect, it } from "vitest";
import { projectOn } from "./bed-engines.js";
import { runCli } from "./cli.js";
import { docker as mainEngine } from "./docker.js";
import { testProject } from "./names.js";
import { waitOneActive } from "./oracle.js";

export interface EngineScenario {
  /** Part of the project name (t<run>-<label>). */
  readonly label: string;
  /** What every vault-ha command runs with: DOCKER_HOST, or DOCKER_CONFIG for a context. */
  readonly env: () => Record<string, string>;
  /** The engine under test, asked directly (never through vault-ha). */
  readonly engine: () => Docker;
  /** What `vault-ha doctor --json` must say about it. */
  readonly doctor: (report: DoctorReport) => void;
  /** True when the engine under test is not the bed's main engine. */
  readonly separateEngine: boolean;
}

export interface DoctorReport {
  readonly engine: {
    host: string;
    source: string;
    context: string | null;
    kind: string;
    version: string;
    apiVersion: string;
    rootless: boolean;
  };
  readonly compose: { version: string };
  readonly ports: { bindAddress: string; connectHost: string; reason: string };
}

interface UpJson {
  project: string;
  nodes: { name: string; url: string; mode: string }[];
  activeUrl: string;
  dynamodbEndpoint: string;
}

/**
 * The user's path on one engine, registered as tests of the calling
 * describe(): doctor, `up --ephemeral`, status against the raw truth, a
 * failover by step-down, and `reset`, which removes this cluster from that
 * engine and nothing else (a foreign volume there survives; the bed's main
 * engine never sees the project).
 */
export function engineScenario(scenario: EngineScenario): void {
  let project = "";
  let up: UpJson | undefined;
  const foreignVolume = () => `${project}-foreign`;
  const cli = (args: string[], timeout = 120_000) => runCli(args, { env: scenario.env(), timeout });

  beforeAll(async () => {
    project = testProject(scenario.label);
    // Somebody else's volume on that engine, unlabelled: it must outlive reset.
    await scenario.engine().createVolume({ Name: foreignVolume() });
  });

  afterAll(async () => {
    await cli(["reset", "--yes", "--project", project]);
    const engine = scenario.engine();
    await engine.getVolume(foreignVolume()).remove();
    const left = await projectOn(engine, project);
    for (const container of left.containers)
      await engine.getContainer(container.Id).remove({ force: true, v: true });
  });

  it("doctor names the engine, how it was found and where ports answer", async () => {
    const result = await cli(["doctor", "--json"]);
    expect(result.exitCode, result.stderr).toBe(0);
    scenario.doctor(JSON.parse(result.stdout) as DoctorReport);
  });

  it("up --ephemeral starts three nodes on that engine: one active, two standbys (raw sys/health)", async () => {
    const result = await cli(["up", "--ephemeral", "--project", project, "--json"], 420_000);
    expect(result.exitCode, result.stderr).toBe(0);
    up = JSON.parse(result.stdout) as UpJson;
    expect(up.project).toBe(project);
    expect(up.nodes.map((node) => node.name)).toEqual(["vault-1", "vault-2", "vault-3"]);
    const truth = await waitOneActive(up.nodes.map((node) => node.url));
    expect(up.activeUrl).toBe(up.nodes[truth.activeIndex]?.url);
    const onEngine = await projectOn(scenario.engine(), project);
    expect(onEngine.containers.map((c) => c.Labels["com.docker.compose.service"]).sort()).toEqual([
      "dynamodb",
      "vault-1",
      "vault-2",
      "vault-3",
    ]);
    if (scenario.separateEngine) {
      const onMain = await mainEngine.listContainers({
        all: true,
        filters: { label: [`com.docker.compose.project=${project}`] },
      });
      expect(onMain, "the bed's main engine must never see this project").toEqual([]);
    }
  });

  it("status --json agrees with Vault itself", async () => {
    if (!up) throw new Error("up did not run");
    const truth = await waitOneActive(up.nodes.map((node) => node.url));
    const result = await cli(["status", "--project", project, "--json"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const status = JSON.parse(result.stdout) as {
      summary: string;
      active: string;
      nodes: { name: string; url: string; mode: string }[];
    };
    expect(status.summary).toBe("healthy");
    expect(status.active).toBe(`vault-${truth.activeIndex + 1}`);
    expect(status.nodes.map((node) => node.url)).toEqual(up.nodes.map((node) => node.url));
  });

  it("a host port this cluster publishes is refused to another project, naming the container", async () => {
    if (!up) throw new Error("up did not run");
    const port = new URL(up.dynamodbEndpoint).port;
    const other = `${project}-other`;
    const result = await cli([
      "up",
      "--project",
      other,
      "--nodes",
      "1",
      "--dynamodb-port",
      port,
      "--vault-port",
      "0",
    ]);
    expect(result.exitCode).toBe(5);
    expect(result.stderr).toMatch(
      new RegExp(
        `host port ${port} \\(for dynamodb\\) is published by container ${project}-dynamodb-1`,
      ),
    );
    const left = await projectOn(scenario.engine(), other);
    expect(left.containers).toEqual([]);
  });

  it("step-down moves the active role to another node (raw sys/health)", async () => {
    if (!up) throw new Error("up did not run");
    const urls = up.nodes.map((node) => node.url);
    const before = await waitOneActive(urls);
    const result = await cli(["step-down", "--project", project, "--json"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const after = await waitOneActive(urls);
    expect(after.activeIndex).not.toBe(before.activeIndex);
  });

  it("reset removes this cluster from that engine and leaves everything else", async () => {
    const result = await cli(["reset", "--yes", "--project", project]);
    expect(result.exitCode, result.stderr).toBe(0);
    const engine = scenario.engine();
    const left = await projectOn(engine, project);
    expect(left.containers).toEqual([]);
    expect(left.networks).toEqual([]);
    expect(left.volumes).toEqual([]);
    const foreign = await engine.getVolume(foreignVolume()).inspect();
    expect(foreign.Name).toBe(foreignVolume());
  });
}
