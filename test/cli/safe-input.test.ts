import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { runCli, withTempDir } from "../support/cli.js";

// Bad input is refused before Docker is touched: no engine call, no file written.
describe("numeric flags (the built CLI)", () => {
  it.each([
    [
      ["status", "--interval", "abc"],
      '--interval "abc" is not allowed; use a number of seconds from 0.2 to 3600',
    ],
    [
      ["dashboard", "--interval", "0"],
      '--interval "0" is not allowed; use a number of seconds from 0.2 to 60',
    ],
    [
      ["wait", "--timeout", "-1"],
      '--timeout "-1" is not allowed; use a number of seconds from 1 to 86400',
    ],
    [
      ["logs", "--tail", "x"],
      '--tail "x" is not allowed; use a whole number of lines (0 or more) or all',
    ],
  ])("%j: exit 2 and one line naming flag, value and range", async (args, expected) => {
    await withTempDir(async (dir) => {
      const result = await runCli(args, { cwd: dir, env: { VAULT_HA_STATE_DIR: dir } });
      expect(result.exitCode, result.stderr).toBe(2);
      expect(result.stderr).toContain(expected);
      expect(result.stderr.split("\n").filter(Boolean)).toHaveLength(1);
      expect(await readdir(dir)).toEqual([]);
    });
  });
});

describe("render refuses what would change the cluster behind the user's back", () => {
  it("an endpoint that would end its HCL string: exit 2, one line naming the key", async () => {
    await withTempDir(async (dir) => {
      const result = await runCli(
        ["render", "--set", 'storage.endpoint=http://a/" ha_enabled = "false'],
        { cwd: dir },
      );
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toMatch(/flags: storage\.endpoint: .* is not allowed; use a plain/);
      expect(result.stderr.split("\n").filter(Boolean)).toHaveLength(1);
      expect(await readdir(dir)).toEqual([]);
    });
  });

  it("a private key in --certs: exit 5, one line naming the file, nothing written", async () => {
    await withTempDir(async (dir) => {
      const certs = path.join(dir, "my-certs");
      await mkdir(certs);
      await writeFile(
        path.join(certs, "proxy.pem"),
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
      );
      const result = await runCli(["render", "--certs", certs], { cwd: dir });
      expect(result.exitCode).toBe(5);
      expect(result.stderr).toContain(`${path.join(certs, "proxy.pem")} holds a private key`);
      expect(result.stderr.split("\n").filter(Boolean)).toHaveLength(1);
      expect(await readdir(dir)).toEqual(["my-certs"]);
    });
  });

  it("a $ in a path reaches Compose literally, not as a variable", async () => {
    await withTempDir(async (dir) => {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal ${ is the input under test
      const certs = path.join(dir, "certs-$HOME-${USER}");
      await mkdir(certs);
      const result = await runCli(["render", "--certs", certs, "-o", "compose.yml"], { cwd: dir });
      expect(result.exitCode, result.stderr).toBe(0);
      const config = await execa(
        "docker",
        ["compose", "-f", "compose.yml", "config", "--format", "json"],
        { cwd: dir, reject: false, env: { HOME: "/home/someone", USER: "someone" } },
      );
      expect(config.exitCode, config.stderr).toBe(0);
      // `config` prints a literal $ escaped again, so its output is a valid file too.
      const context = JSON.parse(config.stdout).services.dynamodb.build.context as string;
      expect(context).toBe(certs.replaceAll("$", () => "$$"));
      expect(context).not.toContain("someone");
    });
  });
});
