import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import path from "node:path";
import { PACKAGE_ROOT } from "../../src/package-paths.js";

/**
 * A separate Node process that owns an ephemeral cluster through the built
 * package (as a user's test runner would), prints its project on stdout, and
 * then does what `then` says: wait (for a signal), or exit on its own.
 */
export async function startOwner(
  then: "wait" | "exit" = "wait",
  options: { nodes?: number } = {},
): Promise<{
  child: ChildProcess;
  project: string;
  exited: Promise<NodeJS.Signals | number | null>;
}> {
  const script = `
    const { startCluster } = await import(${JSON.stringify(path.join(PACKAGE_ROOT, "dist", "index.js"))});
    const cluster = await startCluster({ ephemeral: true, nodes: ${options.nodes ?? 1} });
    process.stdout.write(JSON.stringify({ project: cluster.project }) + "\\n");
    ${then === "exit" ? "setTimeout(() => process.exit(0), 200);" : "setInterval(() => {}, 1000);"}
  `;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on("exit", (code, signal) => resolve(signal ?? code)),
  );
  const project = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split("\n").find((candidate) => candidate.startsWith("{"));
      if (line) resolve(JSON.parse(line).project);
    });
    child.on("exit", () => reject(new Error(`owner exited before starting a cluster: ${stderr}`)));
  });
  return { child, project, exited };
}

/** A process id that surely belongs to no running process (one that just ended). */
export function deadPid(): number {
  const result = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], {
    encoding: "utf8",
  });
  return Number(result.stdout);
}
