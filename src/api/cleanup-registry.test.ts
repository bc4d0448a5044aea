import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Disposable, register, unregister } from "./cleanup-registry.js";

const registry = fileURLToPath(new URL("./cleanup-registry.ts", import.meta.url));

/**
 * Signals and `exit` are process-wide, so each scenario runs in its own Node
 * process, which imports the TypeScript source directly (Node 22.18+ strips
 * types; the registry imports nothing of ours). It prints what happened.
 */
const CHILD = `
const [registryPath, scenario] = process.argv.slice(2);
const { register, unregister } = await import(registryPath);
const say = (line) => process.stdout.write(line + "\\n");
const slow = {
  project: "slow",
  stop: async () => {
    await new Promise((resolve) => setTimeout(resolve, 200));
    say("stopped slow");
  },
  stopSync: () => say("stopSync slow"),
};
const failing = {
  project: "failing",
  stop: async () => {
    say("stopped failing");
    throw new Error("cannot remove");
  },
  stopSync: () => {
    throw new Error("cannot remove");
  },
};
const synchronous = {
  project: "sync",
  stop: async () => say("stopped sync"),
  stopSync: () => say("stopSync sync"),
};
const listeners = () =>
  ["SIGINT", "SIGTERM", "exit"].map((event) => process.listenerCount(event)).join(" ");
if (scenario === "signal") {
  register(slow);
  register(failing);
} else if (scenario === "unregistered") {
  register(slow);
  unregister(slow);
} else if (scenario === "exit") {
  register(slow);
  register(failing);
  register(synchronous);
  unregister(failing);
  say("exiting");
  process.exit(0);
}
say("listeners " + listeners());
say("ready");
setInterval(() => {}, 1000);
`;

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "vault-ha-cleanup-"));
  await writeFile(path.join(dir, "child.mjs"), CHILD);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs a scenario; sends `signal` once the child says it is ready. */
function runChild(
  scenario: string,
  signal?: NodeJS.Signals,
): Promise<{ lines: string[]; code: number | null; signal: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, [path.join(dir, "child.mjs"), registry, scenario], {
    env: process.env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  let stdout = "";
  let signalled = false;
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    // Once: a second signal finds no handler and ends the process at once.
    if (signal && !signalled && stdout.includes("ready\n")) {
      signalled = true;
      child.kill(signal);
    }
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`scenario ${scenario} did not end; it printed:\n${stdout}`));
    }, 10_000);
    child.on("exit", (code, exitSignal) => {
      clearTimeout(timer);
      resolve({ lines: stdout.trim().split("\n"), code, signal: exitSignal });
    });
  });
}

describe("the cleanup registry", () => {
  it("installs its handlers with the first cluster and removes them with the last", () => {
    const counts = () =>
      (["SIGINT", "SIGTERM", "exit"] as const).map((event) => process.listenerCount(event));
    const before = counts();
    const cluster = (project: string): Disposable => ({
      project,
      stop: async () => {},
      stopSync: () => {},
    });
    const [a, b] = [cluster("a"), cluster("b")];
    register(a);
    register(b);
    expect(counts()).toEqual(before.map((count) => count + 1));
    unregister(a);
    expect(counts()).toEqual(before.map((count) => count + 1));
    unregister(b);
    expect(counts()).toEqual(before);
  });

  it.each(["SIGINT", "SIGTERM"] as const)(
    "on %s runs every stop(), even a failing one, then dies of the signal",
    async (signal) => {
      const result = await runChild("signal", signal);
      expect(result.lines[0]).toBe("listeners 1 1 1");
      expect(result.lines.slice(2).sort()).toEqual(["stopped failing", "stopped slow"]);
      expect(result.signal).toBe(signal);
    },
  );

  it("leaves a signal's default effect alone once every cluster is unregistered", async () => {
    const result = await runChild("unregistered", "SIGTERM");
    expect(result.lines).toEqual(["listeners 0 0 0", "ready"]);
    expect(result.signal).toBe("SIGTERM");
  });

  it("removes what is still registered on a plain exit, synchronously", async () => {
    const result = await runChild("exit");
    expect(result).toMatchObject({ code: 0, signal: null });
    expect(result.lines).toEqual(["exiting", "stopSync slow", "stopSync sync"]);
  });
});
