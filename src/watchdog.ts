/**
 * The watchdog of one ephemeral cluster: a small detached Node process that
 * `startCluster` spawns with a pipe on its stdin. When the owner ends in any
 * way (stop(), a crash, SIGKILL, an OOM-killed test worker) the kernel closes
 * that pipe. An owner that cleaned up writes "release" first and the watchdog
 * simply exits; otherwise it removes every container, network and volume
 * carrying the session's label, and nothing else.
 *
 * It sweeps a few times: a `docker compose up` the owner started may outlive
 * it for a while and still be creating containers.
 */
import { connectEngine } from "./adapters/docker/connect-engine.js";
import { removeSession } from "./services/prune.js";

const SWEEP_INTERVAL_MS = 2_000;
const QUIET_SWEEPS = 3;
const BUDGET_MS = 180_000;

const sessionId = process.argv[2];
if (!sessionId) {
  process.stderr.write("usage: watchdog.js SESSION_ID (started by vault-ha's startCluster)\n");
  process.exit(2);
}

async function sweep(): Promise<void> {
  // The environment vault-ha pinned to its engine when it started this process.
  const docker = connectEngine(process.env);
  const deadline = Date.now() + BUDGET_MS;
  let quiet = 0;
  while (quiet < QUIET_SWEEPS && Date.now() < deadline) {
    const found = await docker
      .listContainers({ "dev.vault-ha.session": sessionId as string }, { all: true })
      .catch(() => []);
    await removeSession(docker, sessionId as string).catch(() => {});
    quiet = found.length === 0 ? quiet + 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, SWEEP_INTERVAL_MS));
  }
}

let released = false;
process.on("SIGHUP", () => {});
process.on("SIGINT", () => {});
process.stdin.on("data", (chunk: Buffer) => {
  if (chunk.toString().includes("release")) released = true;
});
process.stdin.on("close", () => {
  if (released) process.exit(0);
  void sweep().finally(() => process.exit(0));
});
process.stdin.resume();
