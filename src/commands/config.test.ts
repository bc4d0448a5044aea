import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { CommandContext, Output } from "../cli-context.js";
import { loadConfig } from "../config/load-config.js";
import { UsageError } from "../core/errors.js";
import { configCommand } from "./config.js";

/** Records what a command writes: stdout lines and JSON values. */
function fakeOutput() {
  const lines: string[] = [];
  const values: unknown[] = [];
  const stderr: string[] = [];
  const output: Output = {
    info: (line) => lines.push(line),
    hint: (line) => stderr.push(line),
    warn: (line) => stderr.push(line),
    stderrLine: (line) => stderr.push(line),
    json: (value) => values.push(value),
    interactive: false,
  };
  return { output, lines, values, stderr };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "vault-ha-config-command-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A context whose loadConfig reads the real file, environment and flags of a temp folder. */
function context(
  env: Record<string, string> = {},
  flags: [string, string][] = [],
  configFile?: string,
) {
  const recorded = fakeOutput();
  let loads = 0;
  const ctx: CommandContext = {
    cwd: dir,
    env,
    output: recorded.output,
    loadConfig: () => {
      loads++;
      return loadConfig({ cwd: dir, env, flags, configFile });
    },
  };
  return { ctx, ...recorded, loads: () => loads };
}

/** Splits `key value source` lines (values hold no spaces in these tests). */
const rows = (lines: readonly string[]) =>
  lines.map((line) => {
    const match = /^(\S+) +(\S+) +(\S+)$/.exec(line);
    if (!match) throw new Error(`not a config line: ${JSON.stringify(line)}`);
    return [match[1], match[2], match[3]];
  });

const DEFAULT_ROWS = [
  ["project", '"vault-ha"', "default"],
  ["nodes", "3", "default"],
  ["bindAddress", '"auto"', "default"],
  ["vault.image", '"hashicorp/vault:1.21.1"', "default"],
  ["vault.hostPort", "8200", "default"],
  ["vault.mlock", "false", "default"],
  ["dynamodb.image", '"amazon/dynamodb-local:3.3.1"', "default"],
  ["dynamodb.hostPort", "8000", "default"],
  ["dynamodb.port", "8000", "default"],
  ["dynamodb.cors", '"*"', "default"],
  ["dynamodb.inMemory", "false", "default"],
  ["storage.table", '"vault-data"', "default"],
  ["storage.region", '"us-east-1"', "default"],
  ["storage.ha_enabled", "true", "default"],
  ["storage.max_parallel", "128", "default"],
  ["storage.read_capacity", "5", "default"],
  ["storage.write_capacity", "5", "default"],
  ["storage.billing_mode", '"PROVISIONED"', "default"],
  ["storage.dynamodb_allow_updates", "false", "default"],
  ["storage.access_key", '"vaultha"', "default"],
  ["storage.secret_key", '"vaultha"', "default"],
  ["tls", "false", "default"],
  ["seal.type", '"shamir"', "default"],
  ["seal.hostPort", "8199", "default"],
  ["seal.region", '"us-east-1"', "default"],
  ["seal.kmsImage", '"motoserver/moto:5.2.5"', "default"],
  ["loadBalancer.enabled", "false", "default"],
  ["loadBalancer.hostPort", "8100", "default"],
  ["loadBalancer.image", '"haproxy:2.6.12"', "default"],
  ["init.keyShares", "5", "default"],
  ["init.keyThreshold", "3", "default"],
];

describe("vault-ha config", () => {
  it("prints every effective value with its source, in aligned columns", async () => {
    const { ctx, lines, values } = context();
    await configCommand(ctx, {});
    expect(values).toEqual([]);
    expect(rows(lines)).toEqual(DEFAULT_ROWS);
    expect(lines[0]).toBe(
      `project                          "vault-ha"                         default`,
    );
    expect(lines[4]).toBe(
      `vault.hostPort                   8200                               default`,
    );
  });

  it("credits each key to the layer that set it: file < environment < flags", async () => {
    await writeFile(
      path.join(dir, "vault-ha.config.yaml"),
      "project: demo\nnodes: 5\nvault:\n  hostPort: 9200\n",
    );
    const { ctx, lines } = context({ VAULT_HA_NODES: "4" }, [["storage.table", "t-flag"]]);
    await configCommand(ctx, {});
    const file = path.relative(process.cwd(), path.join(dir, "vault-ha.config.yaml"));
    const byKey = new Map(rows(lines).map(([key, value, source]) => [key, [value, source]]));
    expect(byKey.get("project")).toEqual(['"demo"', file]);
    expect(byKey.get("nodes")).toEqual(["4", "environment"]);
    expect(byKey.get("vault.hostPort")).toEqual(["9200", file]);
    expect(byKey.get("storage.table")).toEqual(['"t-flag"', "flags"]);
    // Siblings of a key a layer set keep their own source: the file never named them.
    expect(byKey.get("vault.image")).toEqual(['"hashicorp/vault:1.21.1"', "default"]);
    expect(byKey.get("vault.mlock")).toEqual(["false", "default"]);
    expect(byKey.get("storage.region")).toEqual(['"us-east-1"', "default"]);
    expect(byKey.size).toBe(DEFAULT_ROWS.length);
  });

  it("lists a key without a default once a layer sets it", async () => {
    const { ctx, lines } = context({ VAULT_HA_STORAGE_DYNAMODB_MAX_RETRIES: "7" });
    await configCommand(ctx, {});
    expect(rows(lines)).toContainEqual(["storage.dynamodb_max_retries", "7", "environment"]);
    expect(lines).toHaveLength(DEFAULT_ROWS.length + 1);
  });

  it("--json: the validated configuration and the file it read (null without one)", async () => {
    const without = context();
    await configCommand(without.ctx, { json: true });
    expect(without.lines).toEqual([]);
    expect(without.values).toHaveLength(1);
    const [value] = without.values as [{ file: string | null; config: Record<string, unknown> }];
    expect(value.file).toBeNull();
    expect(value.config.project).toBe("vault-ha");
    expect(value.config.init).toEqual({ keyShares: 5, keyThreshold: 3 });

    const file = path.join(dir, "other.yaml");
    await writeFile(file, "nodes: 1\ninit:\n  keyShares: 1\n  keyThreshold: 1\n");
    const withFile = context({}, [], "other.yaml");
    await configCommand(withFile.ctx, { json: true });
    expect(withFile.values).toEqual([
      {
        file,
        config: expect.objectContaining({ nodes: 1, init: { keyShares: 1, keyThreshold: 1 } }),
      },
    ]);
  });

  it("a bad configuration is a usage error, and nothing is printed", async () => {
    const { ctx, lines, values } = context({ VAULT_HA_NODES: "12" });
    const error = await configCommand(ctx, {}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    expect((error as UsageError).message).toBe(
      "environment: nodes: 12 is not allowed; use a whole number from 1 to 9",
    );
    expect(lines).toEqual([]);
    expect(values).toEqual([]);
  });
});

describe("vault-ha config --keys", () => {
  it("lists every key with its type and variable, without loading the configuration", async () => {
    await writeFile(path.join(dir, "vault-ha.config.yaml"), "nodes: [broken\n");
    const { ctx, lines, loads } = context();
    await configCommand(ctx, { keys: true });
    expect(loads()).toBe(0);
    expect(lines).toHaveLength(38);
    expect(lines[0]).toBe("project                          string   VAULT_HA_PROJECT");
    expect(lines).toContain("vault.hostPort                   number   VAULT_HA_VAULT_HOST_PORT");
    expect(lines).toContain(
      "dynamodb.inMemory                boolean  VAULT_HA_DYNAMODB_IN_MEMORY",
    );
    expect(lines).toContain("seal.kmsKeyId                    string   VAULT_HA_SEAL_KMS_KEY_ID");
    expect(lines.at(-1)).toBe("configure                        string   VAULT_HA_CONFIGURE");
  });

  it("--json: rows of key, type and env; each variable is one loadConfig accepts", async () => {
    const { ctx, values } = context();
    await configCommand(ctx, { keys: true, json: true });
    const [list] = values as [{ key: string; type: string; env: string }[]];
    expect(list).toHaveLength(38);
    expect(list).toContainEqual({
      key: "init.keyThreshold",
      type: "number",
      env: "VAULT_HA_INIT_KEY_THRESHOLD",
    });
    expect(list).toContainEqual({
      key: "storage.ha_enabled",
      type: "boolean",
      env: "VAULT_HA_STORAGE_HA_ENABLED",
    });
    expect(new Set(list.map((row) => row.key)).size).toBe(38);
    // The variable a row names really sets that key (not just a string that looks right).
    for (const row of list.filter((entry) => entry.type === "boolean")) {
      const loaded = await loadConfig({ cwd: dir, env: { [row.env]: "true" }, flags: [] });
      expect(loaded.sources.get(row.key)).toBe("environment");
    }
    const loaded = await loadConfig({
      cwd: dir,
      env: { VAULT_HA_INIT_KEY_THRESHOLD: "2" },
      flags: [],
    });
    expect(loaded.config.init.keyThreshold).toBe(2);
  });
});
