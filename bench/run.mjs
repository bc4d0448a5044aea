#!/usr/bin/env node
import { execFileSync, spawn, spawnSync } from "node:child_process";
// vault-ha benchmarks: each figure is measured against its floor in the same
// run, and printed as a table with min / median / max and the ratio of the
// medians. Benchmarks are not tests: nothing here fails on a figure.
//
//   npm run bench              # full run (about 22 minutes on 2 cores)
//   npm run bench -- --quick   # one iteration of everything (what CI runs)
//   npm run bench -- --only=cold,cli
//
// Sections: cli, cold, warm, status, reset, failover, harness, idle, dashboard.
//
// Needs a Docker engine with the base images (npm run testbed) and a build
// (npm run build).
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
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
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const stateDir = mkdtempSync(path.join(os.tmpdir(), "vault-ha-bench-state-"));
const workDir = mkdtempSync(path.join(os.tmpdir(), "vault-ha-bench-"));
// The harness rows call startCluster in this process: its build cache and a
// reusable cluster's keys go to this run's folder too, never to the
// developer's state folder (whatever VAULT_HA_STATE_DIR or XDG_STATE_HOME say).
process.env.VAULT_HA_STATE_DIR = stateDir;
process.env.XDG_STATE_HOME = stateDir;
const env = {
  ...process.env,
  VAULT_HA_STATE_DIR: stateDir,
  // startCluster (the harness rows) keeps its build cache here, not in ~/.local/state.
  XDG_STATE_HOME: stateDir,
  NO_COLOR: "1",
  CI: "true",
};
// Testcontainers (the harness rows' baseline) runs in this process. There is
// no Ryuk reaper image offline, and this script removes what it started
// itself; reuse must be enabled for `.withReuse()` to reuse anything.
process.env.TESTCONTAINERS_RYUK_DISABLED = "true";
process.env.TESTCONTAINERS_REUSE_ENABLE = "true";
Object.assign(env, {
  TESTCONTAINERS_RYUK_DISABLED: "true",
  TESTCONTAINERS_REUSE_ENABLE: "true",
});

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
async function timedAsync(work) {
  const started = now();
  const value = await work();
  return { ms: now() - started, value };
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
// unit: "ms" (wall time) or "%core" (CPU as a percentage of one core).
function record(name, samples, baseline, unit = "ms") {
  rows.push({ name, samples, baseline, unit });
}

// Names and ports unique to this run, so a benchmark never meets another
// run's clusters (or a developer's own on 8200) on the same engine.
const runId = randomBytes(3).toString("hex");
const projectName = (name) => `vha-bench-${runId}-${name}`;
// Testcontainers' containers carry this label, so the run removes its own.
const benchLabel = "vha-bench.run";
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
/** Until every URL answers HTTP at all (any status: sealed and uninitialised count). */
async function answering(urls) {
  for (;;) {
    const answers = await Promise.all(
      urls.map((url) =>
        fetch(`${url}/v1/sys/health`, { signal: AbortSignal.timeout(1_000) }).then(
          () => true,
          () => false,
        ),
      ),
    );
    if (answers.every(Boolean)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function coldUp(nodes, variants) {
  const project = projectName(`n${nodes}`);
  const vaultPort = portBase + 200;
  const flags = clusterFlags(project, nodes, vaultPort);
  const urls = Array.from({ length: nodes }, (_, index) => `http://127.0.0.1:${vaultPort + index}`);
  vaultHa(["render", "-o", composeFile(project), ...flags]);
  const baseline = [];
  const measured = Object.fromEntries(variants.map((variant) => [variant.name, []]));
  let timeline = "";
  for (let round = 0; round < runs; round++) {
    reset(project, flags);
    // The floor: what Compose alone gives, waited for the way vault-ha waits
    // (every node's API answering), not through the healthchecks' 30 s interval.
    const floorStarted = now();
    run("docker", ["compose", "-p", project, "-f", composeFile(project), "up", "-d"]);
    await answering(urls);
    baseline.push(now() - floorStarted);
    reset(project, flags);
    for (const variant of variants) {
      const sample = timed(() =>
        vaultHa(["up", "--file", composeFile(project), ...flags], { env: variant.env }),
      );
      measured[variant.name].push(sample.ms);
      // Where the time of a cold up goes: vault-ha's own step lines.
      timeline = sample.value.stderr
        .split("\n")
        .filter((line) => line.startsWith("✔"))
        .map((line) => line.slice(2))
        .join(" · ");
      reset(project, flags);
    }
  }
  notes.push(`cold up ${nodes}, timeline of the last run: ${timeline}`);
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
// port (or, `balancer`, through the load balancer's one address); the
// downtime is the longest stretch without a successful write.
async function failover(how, balancer = false) {
  const { startCluster } = await import(path.join(root, "dist", "index.js"));
  const cluster = await startCluster({
    ephemeral: true,
    nodes: 3,
    ...(balancer ? { loadBalancer: { enabled: true } } : {}),
  });
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
      const urls = balancer ? [cluster.loadBalancerUrl] : cluster.nodes.map((node) => node.url);
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
  const balancedStop = await failover("stop", true);
  const balancedKill = await failover("kill", true);
  record("failover through the balancer, docker stop", balancedStop, stopGaps);
  record("failover through the balancer, docker kill", balancedKill, stopGaps);
  notes.push(
    "through the balancer: the same client on HAProxy's one address (loadBalancer.enabled), which sends traffic only to the node whose sys/health answers 200, checked every 500 ms",
  );
}

// One status snapshot with one node's Vault process frozen (SIGSTOP): its
// container runs but its API never answers, so the snapshot waits
// for the per-request timeout. Baseline: the same with every node healthy.
async function statusLatency(nodes) {
  const project = projectName(`s${nodes}`);
  const flags = clusterFlags(project, nodes, portBase + 400);
  vaultHa(["up", ...flags]);
  const healthy = [];
  const floor = [];
  for (let round = 0; round < Math.max(runs, 3); round++) {
    healthy.push(timed(() => vaultHa(["status", "--json", ...flags], { check: false })).ms);
    floor.push(timed(() => run(process.execPath, ["-e", ""])).ms);
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
  record(`status --json, ${nodes} nodes, healthy`, healthy, floor);
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

// startCluster from the package, timed until its promise resolves (stop() is
// not timed). Baseline: Testcontainers' Vault module starting one dev-mode
// Vault from the same image, in this process, in the same rounds.
async function harness() {
  const { startCluster, configSchema } = await import(path.join(root, "dist", "index.js"));
  const { VaultContainer } = await import("@testcontainers/vault");
  const { PullPolicy } = await import("testcontainers");
  const image = configSchema.parse({}).vault.image;
  // The image is local (and there is no registry offline): never pull.
  const devVault = () =>
    new VaultContainer(image)
      .withVaultToken("root")
      .withPullPolicy(PullPolicy.neverPull())
      .withLabels({ [benchLabel]: runId });
  const testcontainers = [];
  const measured = { 1: [], 3: [] };
  const dynamodbAlone = [];
  for (let round = 0; round < runs; round++) {
    const dev = await timedAsync(() => devVault().start());
    testcontainers.push(dev.ms);
    await dev.value.stop();
    dynamodbAlone.push(await dynamodbStart());
    for (const nodes of [1, 3]) {
      const started = await timedAsync(() => startCluster({ ephemeral: true, nodes }));
      measured[nodes].push(started.ms);
      await started.value.stop();
    }
  }
  record("startCluster, 1 node (ephemeral)", measured[1], testcontainers);
  record("startCluster, 3 nodes (ephemeral)", measured[3], testcontainers);
  record("floor: DynamoDB Local alone, run to first answer", dynamodbAlone, testcontainers);
  notes.push(
    `harness baseline "Testcontainers dev Vault": @testcontainers/vault starting one dev-mode Vault (${image}: in memory, unsealed, no HA, no DynamoDB) until its health check answers 200; the first round's starts also pay each tool's one-time set-up in this process`,
  );
  await harnessReuse(startCluster, devVault);
}

/**
 * What no ordering can remove from a cold start: DynamoDB Local's own start,
 * `docker run` of the built image (with the JVM options vault-ha uses) until
 * its first ListTables answer, polled every 50 ms from the host.
 */
async function dynamodbStart() {
  const { builtImageTag, DYNAMODB_JVM_OPTIONS } = await import(
    path.join(root, "dist", "core", "render-compose.js")
  );
  const { configSchema } = await import(path.join(root, "dist", "index.js"));
  const { DynamoDBClient, ListTablesCommand } = await import("@aws-sdk/client-dynamodb");
  const image = builtImageTag("dynamodb", configSchema.parse({}).dynamodb.image);
  const name = `vha-bench-${runId}-dynamodb-alone`;
  const started = now();
  run("docker", [
    "run",
    "-d",
    "--name",
    name,
    "--label",
    `${benchLabel}=${runId}`,
    "-p",
    "127.0.0.1::8000",
    image,
    ...DYNAMODB_JVM_OPTIONS,
    "-jar",
    "DynamoDBLocal.jar",
    "-sharedDb",
    "-inMemory",
  ]);
  const port = run("docker", ["port", name, "8000/tcp"]).stdout.trim().split(":").pop();
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: "us-east-1",
    credentials: { accessKeyId: "bench", secretAccessKey: "bench" },
    maxAttempts: 1,
  });
  try {
    for (;;) {
      try {
        await client.send(new ListTablesCommand({}));
        return now() - started;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      if (now() - started > 120_000) throw new Error("DynamoDB Local did not answer in 120 s");
    }
  } finally {
    client.destroy();
    run("docker", ["rm", "-f", name], { check: false });
  }
}

// A healthy cluster handed over: one untimed first start, then timed starts
// with the same options, each followed by stop() (which leaves a reused
// cluster running). Baseline: Testcontainers' `.withReuse()`, timed the same
// way (a reused container is left running too).
async function harnessReuse(startCluster, devVault) {
  const name = "startCluster, reuse (healthy cluster handed over)";
  // A reusable cluster is found again by a hash of its settings: a table
  // name unique to this run keeps it apart from anyone else's reusable
  // 1-node cluster on this engine (never handed one, never removing one).
  const options = { ephemeral: true, reuse: true, nodes: 1, storage: { table: `bench${runId}` } };
  const ours = new Set();
  const containers = new Set();
  try {
    let first;
    try {
      first = await startCluster(options);
    } catch (error) {
      notes.push(
        `${name}: skipped, startCluster({ reuse: true }) failed: ${String(error?.message ?? error).split("\n")[0]}`,
      );
      return;
    }
    if (typeof first.reused !== "boolean") {
      await first.stop();
      notes.push(`${name}: skipped, this build's startCluster has no reuse (no \`reused\` field)`);
      return;
    }
    if (!first.reused) ours.add(first.project);
    else
      notes.push(
        `${name}: the first start was handed ${first.project}, not this run's: left as it is`,
      );
    await first.stop();
    // A handover takes milliseconds: more rounds than the slow rows.
    const rounds = quick ? 1 : Math.max(runs, 10);
    const samples = [];
    let notHandedOver = 0;
    for (let round = 0; round < rounds; round++) {
      const started = await timedAsync(() => startCluster(options));
      samples.push(started.ms);
      if (!started.value.reused) {
        notHandedOver++;
        ours.add(started.value.project);
      }
      await started.value.stop();
    }
    const reusable = () => devVault().withReuse();
    const firstContainer = await reusable().start();
    containers.add(firstContainer.getId());
    const baseline = [];
    for (let round = 0; round < rounds; round++) {
      const started = await timedAsync(() => reusable().start());
      baseline.push(started.ms);
      containers.add(started.value.getId());
    }
    record(name, samples, baseline);
    notes.push(
      "reuse baseline: Testcontainers `.withReuse()` of the same dev Vault (finds the container by its configuration hash, waits for its health check), left running like the reused cluster",
    );
    if (notHandedOver > 0) {
      notes.push(`${name}: ${notHandedOver} of the timed starts created a new cluster instead`);
    }
    if (containers.size > 1) {
      notes.push(`reuse baseline: Testcontainers started ${containers.size} containers, not one`);
    }
  } finally {
    // Only this run's reusable clusters, by project (`vault-ha prune --yes
    // --reuse` would remove every reusable cluster on the engine), and the
    // Testcontainers containers this run started.
    removeProjects((project) => ours.has(project));
    if (containers.size > 0) {
      spawnSync("docker", ["rm", "-f", "-v", ...containers], { stdio: "ignore" });
    }
  }
}

// CPU: busy jiffies of the whole machine from /proc/stat, and utime+stime of
// one process from /proc/PID/stat, both as a percentage of one core.
function machineJiffies() {
  const lines = readFileSync("/proc/stat", "utf8").split("\n");
  const [user, nice, system, idle, iowait, irq, softirq, steal] = lines[0]
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return {
    // guest time is already counted in user and nice; steal is time the
    // hypervisor gave to someone else: part of the window, not this machine's work.
    busy: user + nice + system + irq + softirq,
    total: user + nice + system + idle + iowait + irq + softirq + steal,
    cores: lines.filter((line) => /^cpu\d+ /.test(line)).length,
  };
}
async function machineCpu(windowMs) {
  const before = machineJiffies();
  await sleep(windowMs);
  const after = machineJiffies();
  return ((after.busy - before.busy) / (after.total - before.total)) * after.cores * 100;
}
const clockTicks = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();
function procStat(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after "(comm)", which may itself contain spaces and parentheses.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) };
}
function childrenOf(pid) {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return procStat(entry).ppid === pid;
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}
// Each process's CPU over the same windows, measured side by side.
async function processCpu(pids, windowMs, windows) {
  const samples = pids.map(() => []);
  for (let round = 0; round < windows; round++) {
    const started = now();
    const before = pids.map((pid) => procStat(pid).ticks);
    await sleep(windowMs);
    const after = pids.map((pid) => procStat(pid).ticks);
    const seconds = (now() - started) / 1000;
    pids.forEach((_, index) => {
      samples[index].push(((after[index] - before[index]) / clockTicks / seconds) * 100);
    });
  }
  return samples;
}

// One healthy 3-node cluster (`vault-ha up`) for the idle and dashboard rows.
const cpuWindowMs = quick ? 10_000 : 30_000;
const idleProject = projectName("idle");
const idleFlags = clusterFlags(idleProject, 3, portBase + 600);
let idleClusterUp = false;
function idleCluster() {
  if (!idleClusterUp) {
    idleClusterUp = true; // reset at the end even if `up` fails half-way
    vaultHa(["up", ...idleFlags]);
  }
}

// The CPU time (ns) the project's containers used so far, from Docker's
// counters: a cross-check that other load on the machine does not touch.
async function containersCpuNs(project) {
  const containers = await docker.listContainers({
    filters: { label: [`com.docker.compose.project=${project}`] },
  });
  const usage = await Promise.all(
    containers.map(async ({ Id }) => {
      const stats = await docker.getContainer(Id).stats({ stream: false, "one-shot": true });
      return stats.cpu_stats?.cpu_usage?.total_usage ?? 0;
    }),
  );
  return usage.reduce((sum, value) => sum + value, 0);
}

async function idleCpu() {
  // The baseline first: no cluster of this run exists yet.
  const baseline = [];
  for (let round = 0; round < runs; round++) baseline.push(await machineCpu(cpuWindowMs));
  idleCluster();
  await sleep(10_000); // settle: the start-up's own work is not idle
  const samples = [];
  const own = [];
  for (let round = 0; round < runs; round++) {
    const before = await containersCpuNs(idleProject);
    samples.push(await machineCpu(cpuWindowMs));
    own.push(((await containersCpuNs(idleProject)) - before) / (cpuWindowMs * 10_000));
  }
  record("idle 3-node cluster, machine CPU", samples, baseline, "%core");
  notes.push(
    `idle CPU: busy jiffies of the whole machine (/proc/stat) over ${cpuWindowMs / 1000} s windows, 10 s after \`vault-ha up\` of 3 nodes; baseline: the same windows before this run's cluster existed. Other load on the machine (other clusters, builds, tests) adds to both, so the difference of the medians (${(median(samples) - median(baseline)).toFixed(1)} % of one core here) is only as good as that load was steady; the cluster's own containers used ${median(own).toFixed(1)} % of one core in the same windows (median, Docker's CPU counters)`,
  );
}

const shellQuote = (word) => `'${String(word).replaceAll("'", "'\\''")}'`;

async function dashboardCpu() {
  idleCluster();
  // The dashboard needs a terminal: `script` gives it a pseudo-terminal of a
  // usual size, and its stdin (kept open) is the keyboard, so q quits.
  const command = [
    "stty cols 120 rows 40;",
    "exec",
    ...[process.execPath, cli, "dashboard", ...idleFlags].map(shellQuote),
  ].join(" ");
  const { NO_COLOR: _noColor, CI: _ci, ...terminalEnv } = env;
  const dashboard = spawn("script", ["-qfec", command, "/dev/null"], {
    cwd: workDir,
    env: { ...terminalEnv, TERM: "xterm" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const idleNode = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
    stdio: "ignore",
  });
  let screen = "";
  dashboard.stdout.on("data", (chunk) => {
    screen = (screen + chunk).slice(-20_000);
  });
  dashboard.stderr.on("data", (chunk) => {
    screen = (screen + chunk).slice(-20_000);
  });
  const exited = new Promise((resolve) => dashboard.on("exit", resolve));
  dashboard.stdin.on("error", () => {}); // q to a dashboard that already ended
  let nodePid;
  try {
    // The first frame names the project; the node process is script's only
    // child (the shell exec'd it, keeping its pid).
    const deadline = now() + 60_000;
    while (!screen.includes(idleProject) || nodePid === undefined) {
      if (now() > deadline || dashboard.exitCode !== null) {
        throw new Error(`vault-ha dashboard did not draw its first frame:\n${screen}`);
      }
      [nodePid] = childrenOf(dashboard.pid);
      await sleep(200);
    }
    await sleep(5_000); // past its start-up: module loading, the first snapshots
    const [samples, baseline] = await processCpu([nodePid, idleNode.pid], cpuWindowMs, runs);
    record("dashboard idle CPU (1 s refresh)", samples, baseline, "%core");
    notes.push(
      `dashboard CPU: utime+stime of the \`vault-ha dashboard\` node process (/proc/PID/stat, a 120×40 pseudo-terminal, default 1 s refresh, healthy 3-node cluster) over ${cpuWindowMs / 1000} s windows; baseline: \`node -e "setInterval(() => {}, 1000)"\` over the same windows`,
    );
  } finally {
    dashboard.stdin.write("q");
    const quit = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!quit) {
      if (nodePid !== undefined) {
        try {
          process.kill(nodePid, "SIGKILL");
        } catch {
          // already gone
        }
      }
      dashboard.kill("SIGKILL");
    }
    idleNode.kill("SIGKILL");
  }
}

const fmt = (value, unit) => {
  if (unit === "%core") return `${value.toFixed(value >= 10 ? 1 : 2)} %`;
  if (unit !== "ms") return `${value} ${unit}`;
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
};
const ratio = (samples, baseline) =>
  median(baseline) > 0 ? `${(median(samples) / median(baseline)).toFixed(2)}×` : "n/a";
function printTable() {
  const header = ["benchmark", "runs", "min", "median", "max", "baseline median", "ratio"];
  const lines = rows.map(({ name, samples, baseline, unit }) => [
    name,
    String(samples.length),
    fmt(Math.min(...samples), unit),
    fmt(median(samples), unit),
    fmt(Math.max(...samples), unit),
    fmt(median(baseline), unit),
    ratio(samples, baseline),
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
  if (rows.some((row) => row.unit === "%core")) {
    console.log("- CPU rows are in % of one core (100 % = one core busy for the whole window)");
  }
  for (const note of notes) console.log(`- ${note}`);
}

// Removes the containers, networks and volumes of the Compose projects that
// `wanted` picks, whatever state they are in.
function removeProjects(wanted) {
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
      .filter(([id, project]) => id && project && wanted(project))
      .map(([id]) => id);
  const remove = (args, ids) =>
    ids.length > 0 && spawnSync("docker", [...args, ...ids], { stdio: "ignore" });
  remove(["rm", "-f", "-v"], mine(["ps", "-a"], ".ID"));
  remove(["network", "rm"], mine(["network", "ls"], ".ID"));
  remove(["volume", "rm"], mine(["volume", "ls"], ".Name"));
}

// A section that failed half-way leaves its cluster: remove everything of
// this run's projects and this run's Testcontainers containers (and only
// those), whatever state it is in.
function removeRunLeftovers() {
  const prefix = projectName("");
  removeProjects((project) => project.startsWith(prefix));
  const containers = spawnSync(
    "docker",
    ["ps", "-a", "-q", "--filter", `label=${benchLabel}=${runId}`],
    { encoding: "utf8" },
  )
    .stdout.split("\n")
    .map((id) => id.trim())
    .filter(Boolean);
  if (containers.length > 0) {
    spawnSync("docker", ["rm", "-f", "-v", ...containers], { stdio: "ignore" });
  }
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
      await coldUp(nodes, [
        { name: "before", label: " (before: always --build)", env: { VAULT_HA_BUILD: "always" } },
        { name: "after", label: "", env: {} },
      ]);
    }
  }
  if (wants("warm")) warmUp();
  if (wants("status")) {
    for (const nodes of quick ? [3] : [3, 9]) await statusLatency(nodes);
    notes.push('status healthy baseline: `node -e ""`, the floor for any Node.js CLI');
  }
  if (wants("reset")) resetDuration();
  if (wants("failover")) await failoverSection();
  if (wants("harness")) await harness();
  if ((wants("idle") || wants("dashboard")) && !existsSync("/proc/stat")) {
    notes.push("idle and dashboard CPU rows skipped: they read /proc (Linux only)");
  } else if (wants("idle") || wants("dashboard")) {
    try {
      if (wants("idle")) await idleCpu();
      if (wants("dashboard")) await dashboardCpu();
    } finally {
      if (idleClusterUp) reset(idleProject, idleFlags);
    }
  }
  printTable();
} finally {
  removeRunLeftovers();
  rmSync(workDir, { recursive: true, force: true });
  rmSync(stateDir, { recursive: true, force: true });
}
