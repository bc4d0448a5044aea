import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ExitCode, UsageError } from "../core/errors.js";
import { loadConfig } from "./load-config.js";

describe("loadConfig", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "vault-ha-load-config-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const failure = async (run: () => Promise<unknown>): Promise<UsageError> => {
    try {
      await run();
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      return error as UsageError;
    }
    throw new Error("expected a UsageError");
  };

  it("a YAML __proto__ key is reported as unknown and pollutes nothing", async () => {
    await writeFile(
      path.join(dir, "vault-ha.config.yaml"),
      "__proto__:\n  polluted: true\nstorage:\n  constructor:\n    polluted: true\n",
    );
    const error = await failure(() => loadConfig({ cwd: dir, env: {}, flags: [] }));
    expect(error.exitCode).toBe(ExitCode.usage);
    expect([error.message, ...error.details].join("\n")).toContain(
      "__proto__ is not a configuration key",
    );
    expect([error.message, ...error.details].join("\n")).toContain(
      "storage.constructor is not a configuration key",
    );
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("--set with an endpoint that would close its HCL string: one line naming the key", async () => {
    const error = await failure(() =>
      loadConfig({
        cwd: dir,
        env: {},
        flags: [["storage.endpoint", 'http://a/" ha_enabled = "false']],
      }),
    );
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.details).toEqual([]);
    expect(error.message).toMatch(/^flags: storage\.endpoint: .* is not allowed/);
    expect(error.message).not.toContain("\n");
  });

  it("--set __proto__.x=1 is an unknown key", async () => {
    const error = await failure(() =>
      loadConfig({ cwd: dir, env: {}, flags: [["__proto__.x", "1"]] }),
    );
    expect(error.message).toContain("__proto__.x is not a configuration key");
    expect((Object.prototype as Record<string, unknown>).x).toBeUndefined();
  });
});

describe("loadConfig: where settings come from", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "vault-ha-load-config-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  /** How load-config names a file in its messages. */
  const shown = (file: string) => path.relative(process.cwd(), file);
  const rejection = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error("expected a UsageError");
      },
      (error: unknown) => {
        expect(error).toBeInstanceOf(UsageError);
        return error as UsageError;
      },
    );

  it("nothing given and no file: every default, no file, no sources", async () => {
    const loaded = await loadConfig({ cwd: dir, env: {}, flags: [] });
    expect(loaded.file).toBeUndefined();
    expect(loaded.sources.size).toBe(0);
    expect(loaded.config.project).toBe("vault-ha");
    expect(loaded.config.nodes).toBe(3);
  });

  it("reads vault-ha.config.yaml from the working folder when it is there", async () => {
    const file = path.join(dir, "vault-ha.config.yaml");
    await writeFile(file, "project: demo\n");
    const loaded = await loadConfig({ cwd: dir, env: {}, flags: [] });
    expect(loaded.file).toBe(file);
    expect(loaded.config.project).toBe("demo");
    expect(loaded.sources.get("project")).toBe(shown(file));
  });

  it("--config wins over VAULT_HA_CONFIG, which wins over the default file; both resolve from cwd", async () => {
    await mkdir(path.join(dir, "conf"));
    await writeFile(path.join(dir, "vault-ha.config.yaml"), "project: from-default\n");
    await writeFile(path.join(dir, "conf", "env.yaml"), "project: from-env\n");
    await writeFile(path.join(dir, "conf", "flag.yaml"), "project: from-flag\n");
    const env = { VAULT_HA_CONFIG: "conf/env.yaml" };
    const viaEnv = await loadConfig({ cwd: dir, env, flags: [] });
    expect(viaEnv.config.project).toBe("from-env");
    expect(viaEnv.file).toBe(path.join(dir, "conf", "env.yaml"));
    const viaFlag = await loadConfig({ cwd: dir, env, flags: [], configFile: "conf/flag.yaml" });
    expect(viaFlag.config.project).toBe("from-flag");
    expect(viaFlag.file).toBe(path.join(dir, "conf", "flag.yaml"));
  });

  it("layers: file < environment < API values < flags, each key credited to its layer", async () => {
    const file = path.join(dir, "vault-ha.config.yaml");
    await writeFile(
      file,
      "project: p-file\nnodes: 5\nstorage:\n  table: t-file\n  region: eu-west-1\n",
    );
    const loaded = await loadConfig({
      cwd: dir,
      env: { VAULT_HA_NODES: "4", VAULT_HA_STORAGE_TABLE: "t-env", VAULT_HA_STATE_DIR: "/x" },
      values: { storage: { table: "t-values" }, vault: { mlock: true } },
      flags: [
        ["vault.mlock", "false"],
        ["init.keyShares", "1"],
        ["init.keyThreshold", "1"],
      ],
    });
    expect(loaded.config.project).toBe("p-file");
    expect(loaded.config.nodes).toBe(4);
    expect(loaded.config.storage.table).toBe("t-values");
    expect(loaded.config.storage.region).toBe("eu-west-1");
    expect(loaded.config.vault.mlock).toBe(false);
    expect(loaded.config.init).toEqual({ keyShares: 1, keyThreshold: 1 });
    expect(Object.fromEntries(loaded.sources)).toEqual({
      project: shown(file),
      nodes: "environment",
      storage: "options",
      "storage.table": "options",
      "storage.region": shown(file),
      vault: "flags",
      "vault.mlock": "flags",
      init: "flags",
      "init.keyShares": "flags",
      "init.keyThreshold": "flags",
    });
  });

  it("an empty file is no settings", async () => {
    await writeFile(path.join(dir, "vault-ha.config.yaml"), "");
    const loaded = await loadConfig({ cwd: dir, env: {}, flags: [] });
    expect(loaded.config.nodes).toBe(3);
    expect(loaded.file).toBe(path.join(dir, "vault-ha.config.yaml"));
  });

  it("a --config file that cannot be read says which and what to check", async () => {
    const error = await rejection(
      loadConfig({ cwd: dir, env: {}, flags: [], configFile: "nope.yaml" }),
    );
    expect(error.message).toBe(
      `${shown(path.join(dir, "nope.yaml"))}: cannot read the configuration file (ENOENT); check the path given to --config or VAULT_HA_CONFIG`,
    );
    expect(error.details).toEqual([]);
  });

  it("a VAULT_HA_CONFIG that is a folder cannot be read either", async () => {
    const error = await rejection(
      loadConfig({ cwd: dir, env: { VAULT_HA_CONFIG: "." }, flags: [] }),
    );
    expect(error.message).toBe(
      `${shown(dir)}: cannot read the configuration file (EISDIR); check the path given to --config or VAULT_HA_CONFIG`,
    );
  });

  it("one YAML error: one line with file, line and column, without the parser's position text", async () => {
    const file = path.join(dir, "vault-ha.config.yaml");
    await writeFile(file, "a: b: c\n");
    const error = await rejection(loadConfig({ cwd: dir, env: {}, flags: [] }));
    expect(error.message).toBe(
      `${shown(file)}:1:4: not valid YAML: Nested mappings are not allowed in compact mappings`,
    );
    expect(error.details).toEqual([]);
  });

  it("several YAML errors: a heading and one line each", async () => {
    const file = path.join(dir, "vault-ha.config.yaml");
    await writeFile(file, "a: 1\na: 2\nb: c: d\n");
    const error = await rejection(loadConfig({ cwd: dir, env: {}, flags: [] }));
    expect(error.message).toBe(`${shown(file)} is not valid YAML; fix the lines below`);
    expect(error.details).toEqual([
      `${shown(file)}:2:1: not valid YAML: Map keys must be unique`,
      `${shown(file)}:3:4: not valid YAML: Nested mappings are not allowed in compact mappings`,
    ]);
  });

  it("positions of two or more digits are kept whole", async () => {
    const file = path.join(dir, "vault-ha.config.yaml");
    await writeFile(file, `${"# comment\n".repeat(11)}project:          a: b\n`);
    const error = await rejection(loadConfig({ cwd: dir, env: {}, flags: [] }));
    expect(error.message).toBe(
      `${shown(file)}:12:19: not valid YAML: Nested mappings are not allowed in compact mappings`,
    );
  });

  it.each([
    ["- a\n- b\n", "not a list"],
    ["42\n", "not 42"],
    ['"text"\n', 'not "text"'],
  ])("a file holding %j is refused: %s", async (text, what) => {
    const file = path.join(dir, "vault-ha.config.yaml");
    await writeFile(file, text);
    const error = await rejection(loadConfig({ cwd: dir, env: {}, flags: [] }));
    expect(error.message).toBe(
      `${shown(file)}: the file must hold a mapping of settings (key: value), ${what}`,
    );
  });

  it("every problem of every layer at once: a heading and one line each", async () => {
    const file = path.join(dir, "vault-ha.config.yaml");
    await writeFile(file, "nodes: 10\n");
    const error = await rejection(
      loadConfig({
        cwd: dir,
        env: { VAULT_HA_NODE: "2" },
        flags: [["vault.hostport", "1"]],
      }),
    );
    expect(error.exitCode).toBe(ExitCode.usage);
    expect(error.message).toBe("the configuration has 3 problems:");
    expect(error.details).toEqual([
      "environment: VAULT_HA_NODE is not a vault-ha setting; did you mean VAULT_HA_NODES? (unset it, or see vault-ha config --keys)",
      "flags: vault.hostport is not a configuration key; did you mean vault.hostPort? (see vault-ha config --keys)",
      `${shown(file)}: nodes: 10 is not allowed; use a whole number from 1 to 9`,
    ]);
  });

  it("one problem: the line itself, no heading", async () => {
    const error = await rejection(loadConfig({ cwd: dir, env: {}, flags: [["nodes", "0"]] }));
    expect(error.message).toBe("flags: nodes: 0 is not allowed; use a whole number from 1 to 9");
    expect(error.details).toEqual([]);
  });
});
