import { execFileSync } from "node:child_process";
import { describe, expect, it, vi } from "vitest";
import type { CommandContext, Output } from "../cli-context.js";
import { envCommand, formatEnv, githubMaskCommands } from "./env.js";

const snapshot = vi.hoisted(() =>
  vi.fn(async (_options?: { storage?: boolean }) => ({
    project: "demo",
    summary: "healthy",
    active: "vault-1",
    nodes: [{ name: "vault-1", url: "http://127.0.0.1:8200" }],
    dynamodb: { endpoint: "http://127.0.0.1:8000" },
  })),
);

vi.mock("./cluster-context.js", () => ({
  openCluster: async () => ({
    checkDocker: async () => {},
    requireKeys: async () => ({ rootToken: "hvs.root-token", keys: ["k"] }),
    snapshot,
    dynamodbEndpoint: () => "http://127.0.0.1:8000",
    config: {
      storage: { access_key: "vaultha", secret_key: "s3cr%t", region: "us-east-1" },
    },
  }),
}));

const plain = { VAULT_ADDR: "http://127.0.0.1:8200", VAULT_TOKEN: "hvs.abc" };

/** Values a user's configuration could hold, each needing some care. */
const awkward: Record<string, string> = {
  EMPTY: "",
  SPACES: "a b  c",
  SINGLE: "it's",
  DOUBLE: 'say "hi"',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the shell's ${...}, on purpose.
  DOLLAR: "$HOME and ${PATH} and `id`",
  BACKSLASH: "C:\\path\\n",
  HASH: "a#b",
  MULTILINE: "line one\nline two\n",
  EVERYTHING: "'\"\\\n$x #",
};

describe("formatEnv", () => {
  it("writes each format byte for byte", () => {
    expect(formatEnv(plain, "sh")).toBe(
      "export VAULT_ADDR='http://127.0.0.1:8200'\nexport VAULT_TOKEN='hvs.abc'",
    );
    expect(formatEnv(plain, "dotenv")).toBe(
      "VAULT_ADDR=http://127.0.0.1:8200\nVAULT_TOKEN=hvs.abc",
    );
    expect(formatEnv(plain, "github")).toBe(
      "VAULT_ADDR=http://127.0.0.1:8200\nVAULT_TOKEN=hvs.abc",
    );
    expect(formatEnv(plain, "json")).toBe(
      '{\n  "VAULT_ADDR": "http://127.0.0.1:8200",\n  "VAULT_TOKEN": "hvs.abc"\n}',
    );
  });

  it("quotes for dotenv only what needs it", () => {
    expect(formatEnv({ A: "a b", B: "it's", C: "x\ny", D: "" }, "dotenv")).toBe(
      'A=\'a b\'\nB="it\'s"\nC="x\\ny"\nD=',
    );
  });

  it("writes a multi-line value for GitHub as a heredoc", () => {
    expect(formatEnv({ A: "x\ny", B: "z" }, "github", () => "ghadelimiter_fixed")).toBe(
      "A<<ghadelimiter_fixed\nx\ny\nghadelimiter_fixed\nB=z",
    );
  });

  it("never lets a value end its own heredoc", () => {
    const delimiters = ["EOF", "EOF", "FRESH"];
    expect(formatEnv({ A: "a\nEOF\nb" }, "github", () => delimiters.shift() ?? "")).toBe(
      "A<<FRESH\na\nEOF\nb\nFRESH",
    );
  });

  it("writes sh that /bin/sh evaluates back to the same values", () => {
    const script = formatEnv(awkward, "sh");
    for (const [name, value] of Object.entries(awkward)) {
      const printed = execFileSync("/bin/sh", ["-c", `${script}\nprintenv ${name}`], {
        env: { PATH: process.env.PATH },
        encoding: "utf8",
      });
      expect(printed, name).toBe(`${value}\n`);
    }
  });

  it("writes dotenv that reads back to the same values", () => {
    expect(parseDotenv(formatEnv(awkward, "dotenv"))).toEqual(awkward);
  });

  it("writes $GITHUB_ENV lines that the runner reads back to the same values", () => {
    expect(parseGithubEnv(formatEnv(awkward, "github"))).toEqual(awkward);
  });
});

describe("githubMaskCommands", () => {
  it("masks each secret, escaped as actions/toolkit does, and skips empty ones", () => {
    expect(githubMaskCommands(["hvs.abc", "", "50%\r\nx"])).toEqual([
      "::add-mask::hvs.abc",
      "::add-mask::50%25%0D%0Ax",
    ]);
  });
});

describe("env --format github", () => {
  it("masks the secrets on stderr and keeps stdout to $GITHUB_ENV lines", async () => {
    const stdout: string[] = [];
    const stderr: string[] = [];
    const output: Output = {
      info: (line) => stdout.push(line),
      hint: (line) => stderr.push(line),
      warn: (line) => stderr.push(line),
      stderrLine: (line) => stderr.push(line),
      json: (value) => stdout.push(JSON.stringify(value)),
      interactive: false,
    };
    const context = { cwd: "/", env: {}, output } as unknown as CommandContext;

    await envCommand(context, { format: "github" });

    expect(stderr).toEqual(["::add-mask::hvs.root-token", "::add-mask::s3cr%25t"]);
    // Nodes and addresses only: DynamoDB's table is not part of the answer.
    expect(snapshot).toHaveBeenCalledWith({ storage: false });
    expect(stdout.join("\n").split("\n")).toEqual([
      "VAULT_ADDR=http://127.0.0.1:8200",
      "VAULT_TOKEN=hvs.root-token",
      "AWS_ACCESS_KEY_ID=vaultha",
      "AWS_SECRET_ACCESS_KEY=s3cr%t",
      "AWS_REGION=us-east-1",
      "AWS_DEFAULT_REGION=us-east-1",
      "AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:8000",
    ]);
  });
});

/**
 * The rules formatEnv's dotenv promises: bare values end at the line; single
 * quotes are literal; double quotes take \\, \", \n and \r escapes.
 */
function parseDotenv(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const equals = line.indexOf("=");
    const name = line.slice(0, equals);
    const raw = line.slice(equals + 1);
    if (raw.startsWith("'")) {
      expect(raw.endsWith("'") && !raw.slice(1, -1).includes("'"), line).toBe(true);
      result[name] = raw.slice(1, -1);
    } else if (raw.startsWith('"')) {
      expect(/^"(?:[^"\\]|\\[\\"nr])*"$/.test(raw), line).toBe(true);
      result[name] = raw
        .slice(1, -1)
        .replace(/\\([\\"nr])/g, (_, c: string) => ({ n: "\n", r: "\r" })[c] ?? c);
    } else {
      expect(/^[^\s'"#$`\\]*$/.test(raw), line).toBe(true);
      result[name] = raw;
    }
  }
  return result;
}

/** The runner's rules for $GITHUB_ENV: NAME=value, or NAME<<DELIMITER ... DELIMITER. */
function parseGithubEnv(text: string): Record<string, string> {
  const result: Record<string, string> = {};
  const lines = `${text}\n`.split("\n");
  lines.pop();
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] as string;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc as unknown as [string, string, string];
      const end = lines.indexOf(delimiter, index + 1);
      expect(end, `${name}'s heredoc ends`).toBeGreaterThan(index);
      result[name] = lines.slice(index + 1, end).join("\n");
      index = end;
    } else {
      const equals = line.indexOf("=");
      expect(equals, line).toBeGreaterThan(0);
      result[line.slice(0, equals)] = line.slice(equals + 1);
    }
  }
  return result;
}
