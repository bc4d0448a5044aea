#!/usr/bin/env node
// The figures of docs/reliability.md: `vault-ha chaos` runs long enough to
// say something (50 kills, 20 restarts of every node, pauses past the lock
// TTL, DynamoDB restarts on a persistent volume), each on its own cluster,
// with every acknowledged write read back. Like the benchmarks, nothing here
// fails on a figure; a lost write shows in the table and in the exit code.
//
//   node bench/reliability.mjs                  # the whole set (about 35 minutes)
//   node bench/reliability.mjs --scale=0.1      # a tenth of the rounds, to try it
//   node bench/reliability.mjs --out=DIR        # where the reports go (default: a temp folder)
//
// Needs a Docker engine with the base images (npm run testbed) and a build.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = path.join(root, "bin", "vault-ha.js");
const option = (name) =>
  process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
const scale = Number(option("scale") ?? 1);
const out = option("out") ?? mkdtempSync(path.join(os.tmpdir(), "vault-ha-reliability-"));
const stateDir = mkdtempSync(path.join(os.tmpdir(), "vault-ha-reliability-state-"));
// A cluster with a persistent volume writes compose.generated.yml where it
// runs: a folder of its own, never the checkout's committed file.
const workDir = mkdtempSync(path.join(os.tmpdir(), "vault-ha-reliability-work-"));
const env = { ...process.env, NO_COLOR: "1", XDG_STATE_HOME: stateDir };
const rounds = (count) => String(Math.max(1, Math.round(count * scale)));

function run(args) {
  const started = performance.now();
  const result = spawnSync(process.execPath, [cli, ...args], {
    cwd: workDir,
    env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 256 * 1024 * 1024,
  });
  return { ...result, seconds: (performance.now() - started) / 1000 };
}

function cluster(name, flags) {
  const project = `rel-${name}-${randomBytes(3).toString("hex")}`;
  const up = run(["up", "--project", project, "--nodes", "3", "--json", ...flags]);
  if (up.status !== 0) throw new Error(`up ${project} failed (exit ${up.status})`);
  return project;
}

const scenarios = [
  { name: "kill", faults: "kill", rounds: 50, flags: ["--ephemeral"] },
  { name: "restart-all", faults: "restart-all", rounds: 20, flags: ["--ephemeral"] },
  { name: "pause", faults: "pause", rounds: 5, flags: ["--ephemeral"] },
  {
    name: "dynamodb-restart",
    faults: "dynamodb-restart",
    rounds: 5,
    // A persistent volume: DynamoDB Local keeps the data across its restart.
    flags: ["--vault-port", "0", "--dynamodb-port", "0"],
  },
];

const rows = [];
let failed = false;
for (const scenario of scenarios) {
  const project = cluster(scenario.name, scenario.flags);
  try {
    const report = path.join(out, scenario.name);
    const chaos = run([
      "chaos",
      "--project",
      project,
      "--faults",
      scenario.faults,
      "--rounds",
      rounds(scenario.rounds),
      "--writers",
      "2",
      "--json",
      "--report",
      report,
    ]);
    const result = JSON.parse(readFileSync(path.join(report, "report.json"), "utf8"));
    failed ||= chaos.status !== 0;
    const [summary] = result.summary;
    const maxRoundNoActive = Math.max(...result.rounds.map((round) => round.noActiveMs));
    rows.push([
      scenario.name,
      String(result.rounds.length),
      `${(summary.gapP50Ms / 1000).toFixed(1)} / ${(summary.gapP95Ms / 1000).toFixed(1)} / ${(summary.gapMaxMs / 1000).toFixed(1)} s`,
      `${(maxRoundNoActive / 1000).toFixed(1)} s`,
      `${(summary.splitBrainMaxMs / 1000).toFixed(1)} s`,
      `${result.writes.acknowledged}`,
      `${result.writes.lost.length}`,
      chaos.status === 0 ? "passed" : `exit ${chaos.status}`,
      `${(chaos.seconds / 60).toFixed(1)} min`,
    ]);
  } finally {
    run(["reset", "--yes", "--project", project]);
  }
}

const header = [
  "scenario",
  "rounds",
  "write gap p50 / p95 / max",
  "no active max",
  "split brain max",
  "acknowledged",
  "lost",
  "verdict",
  "took",
];
const widths = header.map((_, column) =>
  Math.max(...[header, ...rows].map((row) => row[column].length)),
);
for (const row of [header, ...rows])
  console.log(row.map((cell, column) => cell.padEnd(widths[column])).join("  "));
console.log(`\nreports: ${out}`);
rmSync(stateDir, { recursive: true, force: true });
rmSync(workDir, { recursive: true, force: true });
process.exitCode = failed ? 1 : 0;
