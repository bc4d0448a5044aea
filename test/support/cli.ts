import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { packagePath } from "../../src/package-paths.js";

export interface CliResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The built CLI, run as a user would: a separate Node process. */
export const CLI = packagePath("bin", "vault-ha.js");

export function runCli(
  args: readonly string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; timeout?: number } = {},
): Promise<CliResult> {
  return execa(process.execPath, [CLI, ...args], {
    cwd: options.cwd,
    env: { NO_COLOR: "1", ...options.env },
    reject: false,
    timeout: options.timeout ?? 120_000,
    stdin: "ignore",
  }).then(({ exitCode, stdout, stderr }) => ({ exitCode: exitCode ?? -1, stdout, stderr }));
}

export async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(tmpdir(), "vault-ha-test-"));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
