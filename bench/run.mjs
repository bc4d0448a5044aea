#!/usr/bin/env node
import { execFileSync, spawnSync } from "node:child_process";
// vault-ha benchmarks: each figure is measured against its floor in the same
// run, and printed as a table with min / median / max and the ratio of the
// medians. Benchmarks are not tests: nothing here fails on a figure.
//
//   npm run bench              # full run (about 15 minutes on 2 cores)
//   npm run bench -- --quick   # one iteration of everything (what CI runs)
//   npm run bench -- --only=cold,cli
//
// Needs a Docker engine with the base images (npm run testbed) and a build
// (npm run build).
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Docker from "dockerode";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = path.join(root, "bin", "vault-ha.js");
const args = new Set(process.argv.slice(2));
const quick = args.has("--quick");
const only = [...args]
  .find((arg) => arg.startsWith("--only="))
  ?.slice(7)
  .split(",");
const wants = (section) => !only || only.includes(section);
const runs = quick ? 1 : Number(process.env.BENCH_RUNS ?? 3);
const failovers = quick ? 1 : Number(process.env.BENCH_FAILOVERS ?? 5);
const docker = new Docker();
const rows = [];
const notes = [];

const now = () => performance.now();
const stateDir = mkdtempSync(path.join(os.tmpdir(), "vault-ha-bench-state-"));
const workDir = mkdtempSync(path.join(os.tmpdir(), "vault-ha-bench-"));
// The harness rows call startCluster in this process: its build cache goes
// to this run's folder too, never to the developer's ~/.local/state.
process.env.XDG_STATE_HOME ??= stateDir;
const env = {
  ...process.env,
  VAULT_HA_STATE_DIR: stateDir,
  // startCluster (the harness rows) keeps its build cache here, not in ~/.local/state.
  XDG_STATE_HOME: stateDir,
  NO_COLOR: "1",
  CI: "true",
};

function run(command, commandArgs, { check = true, env: extra = {} } = {}) {
  const result = spawnSync(command, commandArgs, {
    cwd: workDir,
    env: { ...env, ...extra },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (check && result.status !== 0) {
    throw new Error(
      `${command} ${commandArgs.join(" ")} failed (${result.status}):\n${result.stderr}${result.stdout}`,
    );
  }
  return result;
}
const vaultHa = (commandArgs, options) => run(process.execPath, [cli, ...commandArgs], options);
function timed(work) {
  const started = now();
  const value = work();
  return { ms: now() - started, value };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
function record(name, samples, baseline, unit = "ms") {
  rows.push({ name, samples, baseline, unit });
}

// Names and ports unique to this run, so a benchmark never meets another
// run's clusters (or a developer's own on 8200) on the same engine.
const runId = randomBytes(3).toString("hex");
const projectName = (name) => `vha-bench-${runId}-${name}`;
const portBase = 30_000 + Math.floor(Math.random() * 100) * 100;
const clusterFlags = (project, nodes, port) => [
  "--project",
  project,
  "--nodes",
  String(nodes),
  "--vault-port",
  String(port),
  "--dynamodb-port",
  String(port - 200),
];
const composeFile = (project) => path.join(workDir, `${project}.yml`);
function reset(project, flags) {
  vaultHa(["reset", "--yes", ...flags], { check: false });
  run(
    "docker",
    ["compose", "-p", project, "-f", composeFile(project), "down", "--volumes", "--remove-orphans"],
    { check: false },
  );
}

// Cold up: images present, no containers, to every node unsealed and one
// active. Baseline: `docker compose up -d --wait` of the same rendered file,
// which leaves the nodes sealed and uninitialised.
function coldUp(nodes, variants) {
  const project = projectName(`n${nodes}`);
  const flags = clusterFlags(project, nodes, portBase + 200);
  vaultHa(["render", "-o", composeFile(project), ...flags]);
  const baseline = [];
  const measured = Object.fromEntries(variants.map((variant) => [variant.name, []]));
  for (let round = 0; round < runs; round++) {
    reset(project, flags);
    baseline.push(
      timed(() =>
        run("docker", ["compose", "-p", project, "-f", composeFile(project), "up", "-d", "--wait"]),
      ).ms,
    );
    reset(project, flags);
    for (const variant of variants) {
      const sample = timed(() =>
        vaultHa(["up", "--file", composeFile(project), ...flags], { env: variant.env }),
      );
      measured[variant.name].push(sample.ms);
      reset(project, flags);
    }
  }
  for (const variant of variants) {
    record(
      `cold up, ${nodes} node${nodes === 1 ? "" : "s"}${variant.label}`,
      measured[variant.name],
      baseline,
    );
    const extra = median(measured[variant.name]) - median(baseline);
    notes.push(
      `cold up ${nodes}${variant.label}: vault-ha adds ${(extra / 1000).toFixed(1)} s (init, unseal, waits, its own start) on top of compose's ${(median(baseline) / 1000).toFixed(1)} s: ${((extra / median(measured[variant.name])) * 100).toFixed(0)} % of the total`,
    );
  }
}

function warmUp() {
  const project = projectName("warm");
  const flags = clusterFlags(project, 3, portBase + 300);
  vaultHa(["up", ...flags]);
  const samples = [];
  const floor = [];
  for (let round = 0; round < Math.max(runs, 3); round++) {
    samples.push(timed(() => vaultHa(["up", ...flags])).ms);
    floor.push(timed(() => run("docker", ["compose", "-p", project, "ps", "-q"])).ms);
  }
  record("warm up (already running)", samples, floor);
  notes.push(
    "warm up baseline: `docker compose ps` of the same project (the cheapest question Compose answers)",
  );
  reset(project, flags);
}

async function containerOf(project, service) {
  const [info] = await docker.listContainers({
    all: true,
    filters: {
      label: [`com.docker.compose.project=${project}`, `com.docker.compose.service=${service}`],
    },
  });
  return docker.getContainer(info.Id);
}

// A client that, every 50 ms, writes and reads a secret through every node's
// port; the downtime is the longest stretch without a successful write.
async function failover(how) {
  const { startCluster } = await import(path.join(root, "dist", "index.js"));
  const cluster = await startCluster({ ephemeral: true, nodes: 3 });
  const token = cluster.rootToken;
  const call = (url, method, apiPath, body) =>
    fetch(`${url}/v1/${apiPath}`, {
      method,
      headers: { "X-Vault-Token": token, "content-type": "application/json" },
      body: body ? JSON.stringify(body) : undefined,
      redirect: "manual",
      signal: AbortSignal.timeout(1000),
    });
  await call(cluster.activeUrl, "POST", "sys/mounts/kv", { type: "kv", options: { version: "1" } });
  const gaps = [];
  try {
    for (let round = 0; round < failovers; round++) {
      await cluster.waitForActive({ timeoutMs: 120_000, everyNode: true });
      const urls = cluster.nodes.map((node) => node.url);
      const active = cluster.nodes.find((node) => node.mode === "active").name;
      let lastSuccess = now();
      let longest = 0;
      let stop = false;
      const client = (async () => {
        let counter = 0;
        while (!stop) {
          const tick = now();
          await Promise.all(
            urls.map(async (url) => {
              try {
                const write = await call(url, "PUT", "kv/bench", { n: counter++ });
                if (write.status !== 204 && write.status !== 200) return;
                const read = await call(url, "GET", "kv/bench");
                if (read.status !== 200) return;
                const at = now();
                longest = Math.max(longest, at - lastSuccess);
                lastSuccess = at;
              } catch {
                // A refused or timed-out request is exactly the downtime measured.
              }
            }),
          );
          await new Promise((resolve) => setTimeout(resolve, Math.max(0, 50 - (now() - tick))));
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 500));
      longest = 0;
      const container = await containerOf(cluster.project, active);
      if (how === "stop") await container.stop({ t: 10 });
      else await container.kill();
      await cluster.waitForActive({ timeoutMs: 120_000 });
      await new Promise((resolve) => setTimeout(resolve, 500));
      stop = true;
      await client;
      gaps.push(longest);
      await container.start();
      await cluster.waitForActive({ timeoutMs: 120_000 }).catch(() => {});
      // The restarted node comes back sealed; unseal it once it answers.
      for (let attempt = 0; attempt < 100; attempt++) {
        const status = await cluster.status();
        if (status.nodes.every((node) => node.mode !== "down")) break;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      await cluster.unseal();
    }
  } finally {
    await cluster.stop();
  }
  return gaps;
}

async function failoverSection() {
  const stopGaps = await failover("stop");
  const killGaps = await failover("kill");
  record("failover downtime, docker kill", killGaps, stopGaps);
  notes.push(
    "failover baseline: the same client through a graceful `docker stop` (the lock is released on shutdown); after `docker kill` the standbys wait for the 15 s DynamoDB lock TTL",
  );
  record("failover downtime, docker stop", stopGaps, stopGaps);
}

// One status snapshot with one node's Vault process frozen (SIGSTOP): its
// container runs but its API never answers, so the snapshot waits
// for the per-request timeout. Baseline: the same with every node healthy.
async function statusLatency(nodes) {
  const project = projectName(`s${nodes}`);
  const flags = clusterFlags(project, nodes, portBase + 400);
  vaultHa(["up", ...flags]);
  const healthy = [];
  for (let round = 0; round < Math.max(runs, 3); round++) {
    healthy.push(timed(() => vaultHa(["status", "--json", ...flags], { check: false })).ms);
  }
  const container = await containerOf(project, `vault-${nodes}`);
  // Signalled from inside the container (as its root): the benchmark runs as
  // a docker-group user, who may not signal the container's processes from
  // the host. /proc and sh exist in both the official and the stand-in image.
  const signalVault = (signal) =>
    run("docker", [
      "exec",
      "-u",
      "root",
      container.id,
      "sh",
      "-c",
      `for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = vault ] && kill -${signal} \${p#/proc/}; done; true`,
    ]);
  signalVault("STOP");
  const frozen = [];
  try {
    for (let round = 0; round < Math.max(runs, 3); round++) {
      frozen.push(timed(() => vaultHa(["status", "--json", ...flags], { check: false })).ms);
    }
  } finally {
    signalVault("CONT");
  }
  record(`status --json, ${nodes} nodes, one frozen`, frozen, healthy);
  reset(project, flags);
}

function cliStart() {
  const floor = [];
  const help = [];
  const render = [];
  for (let round = 0; round < (quick ? 3 : 10); round++) {
    floor.push(timed(() => run(process.execPath, ["-e", ""])).ms);
    help.push(timed(() => vaultHa(["--help"])).ms);
    render.push(timed(() => vaultHa(["render", "-o", path.join(workDir, "cli.yml")])).ms);
  }
  record("vault-ha --help", help, floor);
  record("vault-ha render", render, floor);
  notes.push('CLI baseline: `node -e ""`, the floor for any Node.js CLI');
}

function resetDuration() {
  const project = projectName("reset");
  const flags = clusterFlags(project, 3, portBase + 500);
  const samples = [];
  const floor = [];
  for (let round = 0; round < runs; round++) {
    vaultHa(["up", ...flags]);
    samples.push(timed(() => vaultHa(["reset", "--yes", ...flags])).ms);
    vaultHa(["up", ...flags]);
    vaultHa(["render", "-o", composeFile(project), ...flags]);
    floor.push(
      timed(() =>
        run("docker", ["compose", "-p", project, "-f", composeFile(project), "down", "--volumes"]),
      ).ms,
    );
    reset(project, flags);
  }
  record("reset (3 nodes)", samples, floor);
  notes.push("reset baseline: `docker compose down --volumes` of the same cluster");
}

const fmt = (ms, unit) =>
  unit === "ms"
    ? ms >= 10_000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${Math.round(ms)} ms`
    : String(ms);
function printTable() {
  const header = ["benchmark", "runs", "min", "median", "max", "baseline median", "ratio"];
  const lines = rows.map(({ name, samples, baseline, unit }) => [
    name,
    String(samples.length),
    fmt(Math.min(...samples), unit),
    fmt(median(samples), unit),
    fmt(Math.max(...samples), unit),
    fmt(median(baseline), unit),
    `${(median(samples) / median(baseline)).toFixed(2)}×`,
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...lines.map((line) => line[column].length)),
  );
  const format = (cells) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column])).join(" | ")} |`;
  console.log(format(header));
  console.log(`|${widths.map((width) => "-".repeat(width + 2)).join("|")}|`);
  for (const line of lines) console.log(format(line));
  console.log("");
  for (const note of notes) console.log(`- ${note}`);
}

// A section that failed half-way leaves its cluster: remove everything of
// this run's projects (and only those), whatever state it is in.
function removeRunLeftovers() {
  const prefix = projectName("");
  const mine = (args, idField) =>
    spawnSync(
      "docker",
      [
        ...args,
        "--filter",
        "label=com.docker.compose.project",
        "--format",
        `{{${idField}}} {{.Label "com.docker.compose.project"}}`,
      ],
      { encoding: "utf8" },
    )
      .stdout.split("\n")
      .map((line) => line.trim().split(" "))
      .filter(([id, project]) => id && project?.startsWith(prefix))
      .map(([id]) => id);
  const remove = (args, ids) =>
    ids.length > 0 && spawnSync("docker", [...args, ...ids], { stdio: "ignore" });
  remove(["rm", "-f", "-v"], mine(["ps", "-a"], ".ID"));
  remove(["network", "rm"], mine(["network", "ls"], ".ID"));
  remove(["volume", "rm"], mine(["volume", "ls"], ".Name"));
}

try {
  const cpu = os.cpus();
  console.log(
    `machine: ${cpu.length} × ${cpu[0]?.model ?? "cpu"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.type()} ${os.release()}, node ${process.version}, docker ${execFileSync("docker", ["version", "--format", "{{.Server.Version}}"], { encoding: "utf8" }).trim()}; runs=${runs}${quick ? " (quick)" : ""}\n`,
  );
  if (wants("cli")) cliStart();
  if (wants("cold")) {
    for (const nodes of quick ? [1] : [1, 3, 5]) {
      // Before/after the measured fix: VAULT_HA_BUILD=always is the old
      // unconditional `--build`; the default skips it when images are current.
      coldUp(nodes, [
        { name: "before", label: " (before: always --build)", env: { VAULT_HA_BUILD: "always" } },
        { name: "after", label: "", env: {} },
      ]);
    }
  }
  if (wants("warm")) warmUp();
  if (wants("status")) {
    for (const nodes of quick ? [3] : [3, 9]) await statusLatency(nodes);
  }
  if (wants("reset")) resetDuration();
  if (wants("failover")) await failoverSection();
  printTable();
} finally {
  removeRunLeftovers();
  rmSync(workDir, { recursive: true, force: true });
  rmSync(stateDir, { recursive: true, force: true });
}
