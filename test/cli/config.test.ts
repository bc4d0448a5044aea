import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, withTempDir } from "../support/cli.js";

// `vault-ha config` through the built CLI: what each source set, in the
// documented order of precedence (defaults < file < VAULT_HA_* < flags).
const row = (stdout: string, key: string) =>
  stdout
    .split("\n")
    .find((line) => line.startsWith(`${key} `))
    ?.split(/\s{2,}/);

describe("vault-ha config", () => {
  it("shows each value and where it came from: file < environment < flags", async () => {
    await withTempDir(async (dir) => {
      await writeFile(
        path.join(dir, "vault-ha.config.yaml"),
        "nodes: 5\nproject: from-file\nstorage:\n  table: file.table\n",
      );
      const result = await runCli(["config", "--project", "from-flag"], {
        cwd: dir,
        env: { VAULT_HA_NODES: "7" },
      });
      expect(result.exitCode, result.stderr).toBe(0);
      expect(row(result.stdout, "project")).toEqual(["project", '"from-flag"', "flags"]);
      expect(row(result.stdout, "nodes")).toEqual(["nodes", "7", "environment"]);
      expect(row(result.stdout, "storage.table")).toEqual([
        "storage.table",
        '"file.table"',
        "vault-ha.config.yaml",
      ]);
      expect(row(result.stdout, "init.keyShares")).toEqual(["init.keyShares", "5", "default"]);
    });
  });

  it("--config FILE and VAULT_HA_CONFIG name the file; --json gives the values", async () => {
    await withTempDir(async (dir) => {
      const file = path.join(dir, "elsewhere.yaml");
      await writeFile(file, "nodes: 1\n");
      const flag = await runCli(["config", "--json", "--config", file], { cwd: dir });
      expect(flag.exitCode, flag.stderr).toBe(0);
      expect(JSON.parse(flag.stdout)).toMatchObject({ file, config: { nodes: 1 } });
      const variable = await runCli(["config", "--json"], {
        cwd: dir,
        env: { VAULT_HA_CONFIG: file },
      });
      expect(JSON.parse(variable.stdout).config.nodes).toBe(1);
      const missing = await runCli(["config"], {
        cwd: dir,
        env: { VAULT_HA_CONFIG: path.join(dir, "nope.yaml") },
      });
      expect(missing.exitCode).toBe(2);
      expect(missing.stderr).toContain("cannot read the configuration file");
    });
  });

  it("--keys lists every key with its type and variable", async () => {
    const result = await runCli(["config", "--keys"]);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^vault\.hostPort\s+number\s+VAULT_HA_VAULT_HOST_PORT$/m);
    expect(result.stdout).toMatch(
      /^storage\.session_token\s+string\s+VAULT_HA_STORAGE_SESSION_TOKEN$/m,
    );
  });
});
