import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI } from "../support/cli.js";
import { type CliCluster, cliCluster } from "../support/cli-cluster.js";
import { docker, projectResources, serviceContainer } from "../support/docker.js";
import { testProject } from "../support/names.js";
import { expectOneActive, haLockItem, nodeTruth, waitOneActive } from "../support/oracle.js";
import { eventually } from "../support/vault-http.js";

// vault-ha on a terminal, against one real 3-node cluster: the reset prompt,
// colour and NO_COLOR, status --watch as text, and the dashboard's keys.
// Plain commands run in a pseudo-terminal made by util-linux `script` (every
// byte the terminal received is kept, escape sequences included); the
// dashboard runs in tmux, as in dashboard.test.ts, where a rendered screen is
// easier to read than ink's cursor moves. Every test starts from "up and
// healthy" through ensureUp(), so any one of them runs alone with -t; what the
// cluster is, is asked of Vault, DynamoDB and Docker directly (support/oracle).
let cluster: CliCluster;

const urls = () => cluster.urls(3);
const dynamodb = () => ({ endpoint: `http://127.0.0.1:${cluster.dynamodbPort}` });
const keysFile = () => path.join(cluster.stateDir, cluster.project, "init.json");
const flags = () => [
  "--project",
  cluster.project,
  "--vault-port",
  String(cluster.vaultPort),
  "--dynamodb-port",
  String(cluster.dynamodbPort),
];

/** `up` (idempotent), checked through the oracle; returns the active node's index. */
async function ensureUp(): Promise<number> {
  const up = await cluster.run(["up"]);
  expect(up.exitCode, up.stderr).toBe(0);
  return expectOneActive(urls(), dynamodb());
}

/** A standby's name, by the oracle. */
const standbyOf = (active: number) => `vault-${((active + 1) % 3) + 1}`;

/** The escape character that starts every control sequence. */
const ESC = "\x1b";
const SGR = new RegExp(`${ESC}\\[([0-9;:]*)m`, "g");
/** Every SGR (Select Graphic Rendition) parameter in the text: 1 bold, 7 inverse, 31 red, … */
const sgrParameters = (text: string) =>
  [...text.matchAll(SGR)].flatMap((match) => (match[1] || "0").split(/[;:]/).map(Number));
/** Foreground or background colours (39 and 49, "default colour", are not a colour). */
const isColour = (code: number) =>
  (code >= 30 && code <= 38) ||
  (code >= 40 && code <= 48) ||
  (code >= 90 && code <= 97) ||
  (code >= 100 && code <= 107);
const plain = (text: string) => text.replace(SGR, "");
/** The text without any control sequence (colours, cursor moves, line erases). */
const visible = (text: string) => text.replace(new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, "g"), "");

/**
 * The environment of a user's terminal: a colour-capable TERM, and none of
 * the variables that turn colour off or on by themselves. CI is one of them:
 * Node (and chalk, under ink) take it for "no colour", and the test user's
 * environment carries it on CI; as-test-user.sh sets TERM=dumb when none is
 * given, which also means no colour.
 */
function terminalEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TERM: "xterm-256color", SHELL: "/bin/sh" };
  for (const name of ["CI", "NO_COLOR", "FORCE_COLOR", "NODE_DISABLE_COLORS"]) delete env[name];
  return { ...env, VAULT_HA_STATE_DIR: cluster.stateDir, ...extra };
}

const shellQuote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

interface TerminalRun {
  /** What the terminal showed so far (stdout and stderr both), CR LF as LF. */
  output(): string;
  /** Types into the terminal, as a user would ("\r" is Enter, "\x03" Ctrl-C). */
  type(text: string): void;
  /** The command's exit code (a signal: 128 + its number, as `script -e` reports it). */
  readonly exited: Promise<number | null>;
  /** Ends the pseudo-terminal if the command is still running (after a failed assertion). */
  stop(): Promise<void>;
}

/** The built CLI with this cluster's flags, in a pseudo-terminal of its own. */
function inTerminal(args: readonly string[], extraEnv: Record<string, string> = {}): TerminalRun {
  const command = [process.execPath, CLI, ...args, ...flags()].map(shellQuote).join(" ");
  // -q: no "Script started" lines, -f: flush at once, -e: the command's exit code.
  const child: ChildProcess = spawn("script", ["-qfec", `exec ${command}`, "/dev/null"], {
    cwd: cluster.cwd,
    env: terminalEnv(extraEnv),
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code) => {
      child.stdin?.end();
      resolve(code);
    });
  });
  let done = false;
  void exited.then(() => {
    done = true;
  });
  return {
    output: () => output.replaceAll("\r\n", "\n"),
    type: (text) => {
      child.stdin?.write(text);
    },
    exited,
    async stop() {
      if (done) return;
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/** Waits for text on the terminal; fails with what the terminal showed. */
async function waitForText(run: TerminalRun, text: string | RegExp, budgetMs = 60_000) {
  const found = () =>
    typeof text === "string" ? run.output().includes(text) : text.test(run.output());
  try {
    await eventually(`"${text}" on the terminal`, budgetMs, async () => found());
  } catch (error) {
    throw new Error(`${(error as Error).message}; the terminal showed:\n${run.output()}`);
  }
}

beforeAll(async () => {
  cluster = await cliCluster("term");
});
afterAll(async () => {
  await cluster.cleanup();
});

describe("status --watch as text", () => {
  it("off a terminal: a block at once, a new block for each change (a sealed standby, raw 503), never the same block twice; SIGINT ends it", async () => {
    const active = await ensureUp();
    const child = cluster.spawn(["status", "--watch", "--interval", "0.2"], "pipe");
    let out = "";
    let err = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on("exit", (code, signal) => resolve({ code, signal })),
    );
    // Off a terminal each block ends with a blank line; only whole blocks count.
    const blocks = () =>
      out
        .split("\n\n")
        .slice(0, -1)
        .map((block) => block.split("\n"));
    const heading = (block: string[]) => block[0] ?? "";
    const row = (block: string[], name: string) =>
      block.find((line) => line.startsWith(`  ${name} `)) ?? "";
    try {
      const [first] = await eventually("a first status block", 30_000, async () =>
        blocks().length > 0 ? blocks() : undefined,
      );
      // The block: heading, column titles, one row per node, DynamoDB.
      expect(heading(first ?? [])).toBe(
        `project ${cluster.project}: healthy (vault-${active + 1} active)`,
      );
      expect(first?.[1]).toMatch(/^ {2}NODE +URL +CONTAINER +MODE +VERSION +LATENCY$/);
      expect(first?.filter((line) => /^ {2}vault-\d /.test(line))).toHaveLength(3);
      expect(row(first ?? [], `vault-${active + 1}`)).toMatch(/ running +active /);
      expect(first?.at(-1)).toMatch(
        /^ {2}dynamodb http:\/\/127\.0\.0\.1:\d+ +running +healthy, table vault-data ACTIVE/,
      );

      const standby = standbyOf(active);
      const standbyUrl = urls()[Number(standby.slice(-1)) - 1] as string;
      const seal = await cluster.run(["seal", standby]);
      expect(seal.exitCode, seal.stderr).toBe(0);
      expect((await nodeTruth(standbyUrl)).health).toBe(503);
      const sealedAt = await eventually("a block with the sealed standby", 30_000, async () => {
        const index = blocks().findIndex((block) => / running +sealed /.test(row(block, standby)));
        return index >= 0 ? index + 1 : undefined;
      });
      const sealedBlock = blocks()[sealedAt - 1] ?? [];
      expect(heading(sealedBlock)).toMatch(new RegExp(`^project ${cluster.project}: degraded `));

      const unseal = await cluster.run(["unseal", standby]);
      expect(unseal.exitCode, unseal.stderr).toBe(0);
      await waitOneActive(urls(), 30_000);
      await eventually("a healthy block after the unseal", 30_000, async () =>
        blocks()
          .slice(sealedAt)
          .some((block) => heading(block).startsWith(`project ${cluster.project}: healthy `)),
      );
      // Printed on change only: no block repeats the one before it (latency aside).
      const comparable = blocks().map((block) => block.join("\n").replace(/\d+ ms/g, ""));
      for (let index = 1; index < comparable.length; index++)
        expect(comparable[index], `block ${index + 1} repeats block ${index}`).not.toBe(
          comparable[index - 1],
        );
    } finally {
      child.kill("SIGINT");
    }
    // No handler of its own: Node's default for SIGINT, which a shell reports
    // as 130 (ExitCode.interrupted, "interrupted by the user").
    const { code, signal } = await exited;
    expect(signal === "SIGINT" || code === 130, `exit ${code}, signal ${signal}`).toBe(true);
    expect(err).toBe("");
  });

  it("on a terminal: the screen is cleared and the block redrawn every interval; Ctrl-C ends it (130), with no error", async () => {
    const active = await ensureUp();
    const run = inTerminal(["status", "--watch", "--interval", "0.2"], { NO_COLOR: "1" });
    try {
      const clear = "\x1b[2J\x1b[H";
      await eventually("three redraws", 30_000, async () => run.output().split(clear).length > 3);
      const frames = run.output().split(clear).slice(1);
      const frame = frames.at(-2) ?? "";
      expect(frame.split("\n")[0]).toBe(
        `project ${cluster.project}: healthy (vault-${active + 1} active)`,
      );
      expect(frame.split("\n").filter((line) => /^ {2}vault-\d /.test(line))).toHaveLength(3);
      run.type("\x03");
      expect(await run.exited).toBe(130);
      const after = run.output().split(clear).at(-1) ?? "";
      expect(after).not.toMatch(/error|\n\s+at /);
    } finally {
      await run.stop();
    }
  });
});

describe("colour on a terminal, and NO_COLOR", () => {
  it("status (an error line) and up (progress and hints) carry ANSI colour on a terminal, and none with NO_COLOR=1", async () => {
    for (const noColor of [false, true]) {
      const active = await ensureUp();
      const standby = standbyOf(active);
      // A sealed standby: status fails (a red error line), up unseals it (green marks).
      const seal = await cluster.run(["seal", standby]);
      expect(seal.exitCode, seal.stderr).toBe(0);
      expect((await nodeTruth(urls()[Number(standby.slice(-1)) - 1] as string)).health).toBe(503);
      const env: Record<string, string> = noColor ? { NO_COLOR: "1" } : {};

      const status = inTerminal(["status"], env);
      expect(await status.exited, status.output()).toBe(4);
      const up = inTerminal(["up"], env);
      expect(await up.exited, up.output()).toBe(0);
      await expectOneActive(urls(), dynamodb());

      // The same words either way.
      expect(plain(status.output())).toMatch(
        new RegExp(`^error: cluster ${cluster.project} is degraded; run vault-ha up`, "m"),
      );
      expect(plain(up.output())).toContain(`✔ unsealing ${standby}`);
      expect(plain(up.output())).toContain(`cluster ${cluster.project} is up: 3 nodes`);
      expect(plain(up.output())).toContain('use it: eval "$(vault-ha env)"');
      if (noColor) {
        expect(sgrParameters(status.output())).toEqual([]);
        expect(sgrParameters(up.output())).toEqual([]);
      } else {
        // Red error, green marks, dimmed hint and step times.
        expect(status.output()).toContain("\x1b[31merror: ");
        expect(up.output()).toContain(`\x1b[32m✔\x1b[39m unsealing ${standby}`);
        expect(up.output()).toContain('\x1b[2muse it: eval "$(vault-ha env)"');
      }
    }
  });
});

// The dashboard in tmux, as in dashboard.test.ts: a tmux server of its own
// (-L, a socket name unique to this run) never touches anyone else's sessions.
describe("the dashboard on a terminal", () => {
  const socket = testProject("term-dash");
  const session = "dashboard";
  const tmux = (...args: string[]) => execa("tmux", ["-L", socket, ...args], { reject: false });
  /** The screen as text; with escapes, as the SGR sequences that draw it. */
  const screen = async (escapes = false) =>
    (await tmux("capture-pane", "-p", ...(escapes ? ["-e"] : []), "-t", session)).stdout;
  const nodeRows = (text: string) => text.split("\n").filter((row) => /^[ ›] vault-\d /.test(row));
  const shownActive = (text: string) =>
    nodeRows(text)
      .find((row) => row.includes("◀ ACTIVE"))
      ?.match(/vault-\d/)?.[0];
  const eventLines = (text: string) =>
    text.split("\n").filter((line) => /^\d\d:\d\d:\d\d {2}/.test(line));

  beforeAll(async () => {
    const version = await execa("tmux", ["-V"], { reject: false });
    expect(
      version.exitCode,
      "tmux is required for the dashboard tests (apt-get install tmux)",
    ).toBe(0);
    await tmux("kill-server");
    // Tall, so the event log keeps every line of the longest test.
    const started = await tmux(
      "new-session",
      "-d",
      "-s",
      session,
      "-x",
      "120",
      "-y",
      "50",
      "bash --norc --noprofile",
    );
    expect(started.exitCode, started.stderr).toBe(0);
  });
  afterAll(async () => {
    await tmux("kill-server");
  });

  /** Starts the dashboard in the tmux shell, as a user's terminal would run it. */
  async function startDashboard(noColor: boolean): Promise<string> {
    await tmux("send-keys", "-t", session, "clear", "Enter");
    // As in terminalEnv(): no CI (Node and chalk take it for "no colour").
    const env = `env -u CI -u FORCE_COLOR ${noColor ? "NO_COLOR=1" : "-u NO_COLOR"} VAULT_HA_STATE_DIR=${cluster.stateDir}`;
    const command = `cd ${cluster.cwd} && ${env} ${process.execPath} ${CLI} dashboard --interval 0.5 ${flags().join(" ")}; echo "dashboard exited with $?"`;
    await tmux("send-keys", "-t", session, command, "Enter");
    return eventually("the dashboard to show an active node", 30_000, async () => {
      const text = await screen();
      return text.includes("◀ ACTIVE") && text.includes("HA lock") ? text : undefined;
    });
  }

  async function quitDashboard(): Promise<void> {
    await tmux("send-keys", "-t", session, "q");
    await eventually("the shell back after q", 10_000, async () =>
      (await screen()).includes("dashboard exited with 0"),
    );
  }

  /** Moves the selection to a node, one key press at a time (ink reads "jj" as one input). */
  async function select(name: string): Promise<void> {
    for (let presses = 0; presses < 10; presses++) {
      const rows = nodeRows(await screen());
      const current = rows.findIndex((row) => row.startsWith("›"));
      const target = rows.findIndex((row) => row.slice(2).startsWith(`${name} `));
      expect(target, `no row for ${name}`).toBeGreaterThanOrEqual(0);
      if (current === target) return;
      await tmux("send-keys", "-t", session, current < target ? "j" : "k");
      await eventually("the selection to move", 5_000, async () => {
        const now = nodeRows(await screen()).findIndex((row) => row.startsWith("›"));
        return now !== current;
      });
    }
    throw new Error(`could not select ${name}`);
  }

  /** Waits for an event line on the dashboard; returns the screen. */
  const waitForEvent = (what: string | RegExp, budgetMs = 60_000, count = 1) =>
    eventually(`the event "${what}" (${count}×)`, budgetMs, async () => {
      const text = await screen();
      const seen = eventLines(text).filter((line) =>
        typeof what === "string" ? line.includes(what) : what.test(line),
      );
      return seen.length >= count ? text : undefined;
    });

  it("NO_COLOR: the nodes are coloured on a terminal; with NO_COLOR=1 no colour, while the markers, bold and inverse selection remain", async () => {
    const active = await ensureUp();
    const activeName = `vault-${active + 1}`;
    await startDashboard(false);
    await eventually("the active node coloured", 10_000, async () => {
      const row = (await screen(true)).split("\n").find((line) => line.includes("◀ ACTIVE"));
      // Green, by the mode (src/ui/NodesTable.tsx).
      return row?.includes(activeName) && sgrParameters(row).includes(32);
    });
    const coloured = await screen(true);
    expect(sgrParameters(coloured).some(isColour)).toBe(true);
    await quitDashboard();

    await startDashboard(true);
    const text = await eventually(
      "the active node bold, the selection inverse",
      10_000,
      async () => {
        const screenText = await screen(true);
        const codes = sgrParameters(screenText);
        return codes.includes(1) && codes.includes(7) ? screenText : undefined;
      },
    );
    expect(sgrParameters(text).filter(isColour)).toEqual([]);
    expect(plain(text)).toContain("◀ ACTIVE");
    expect(shownActive(plain(text))).toBe(activeName);
    await quitDashboard();
  });

  it("keys against the real cluster: s steps down, K kills (no lock release), t starts, u unseals, S seals; each checked by the oracle", async () => {
    await ensureUp();
    const endpoint = dynamodb().endpoint;
    const urlOf = (name: string) => urls()[Number(name.slice(-1)) - 1] as string;
    const containerState = async (name: string) =>
      (await (await serviceContainer(cluster.project, name)).inspect()).State;

    let text = await startDashboard(true);
    expect(nodeRows(text)).toHaveLength(3);
    const a = `vault-${(await expectOneActive(urls(), dynamodb())) + 1}`;
    await eventually("the dashboard to agree with the oracle", 10_000, async () =>
      shownActive(await screen()) === a ? true : undefined,
    );

    // s: the active node gives up the lock; another takes it (raw sys/health).
    const lockBeforeStepDown = await haLockItem(endpoint);
    await tmux("send-keys", "-t", session, "s");
    text = await waitForEvent(/step-down: vault-\d → vault-\d in \d+\.\d s/);
    const [, from, b] = /step-down: (vault-\d) → (vault-\d) in/.exec(text) ?? [];
    expect(from).toBe(a);
    const afterStepDown = await waitOneActive(urls(), 30_000);
    expect(`vault-${afterStepDown.activeIndex + 1}`).toBe(b);
    expect(b).not.toBe(a);
    expect((await haLockItem(endpoint))?.identity).not.toBe(lockBeforeStepDown?.identity);
    await eventually("the new active node on the screen", 10_000, async () =>
      shownActive(await screen()) === b ? true : undefined,
    );

    // K on the active node: docker kill, so the lock item stays its until it expires.
    const killed = b as string;
    await select(killed);
    const lockBeforeKill = await haLockItem(endpoint);
    await tmux("send-keys", "-t", session, "K");
    await waitForEvent(`killed ${killed}'s container`);
    const killedAt = Date.now();
    const state = await containerState(killed);
    expect(state.Running).toBe(false);
    expect(state.ExitCode, "SIGKILL, not a graceful stop").toBe(137);
    expect((await nodeTruth(urlOf(killed))).health).toBe("down");
    // Not released: the item still carries the killed node's identity.
    expect((await haLockItem(endpoint))?.identity).toBe(lockBeforeKill?.identity);
    const afterKill = await waitOneActive(urls(), 60_000, { tolerate: [urlOf(killed)] });
    const c = `vault-${afterKill.activeIndex + 1}`;
    expect(c).not.toBe(killed);
    // The standbys waited for the lock's TTL (15 s, renewed every 5 s).
    expect(Date.now() - killedAt).toBeGreaterThan(5_000);
    expect((await haLockItem(endpoint))?.identity).not.toBe(lockBeforeKill?.identity);
    text = await waitForEvent(
      new RegExp(
        `failover: ${c} is active after \\d+\\.\\d s without an active node \\(was ${killed}\\)`,
      ),
    );
    expect(nodeRows(text).find((row) => row.includes(killed))).toContain("✖ DOWN");
    expect(shownActive(text)).toBe(c);

    // t on the killed node: its container runs again, and Vault comes back sealed.
    await tmux("send-keys", "-t", session, "t");
    await waitForEvent(`started ${killed}'s container`);
    expect((await containerState(killed)).Running).toBe(true);
    await eventually(`${killed} answering 503 (sealed)`, 30_000, async () =>
      (await nodeTruth(urlOf(killed))).health === 503 ? true : undefined,
    );

    // u: every sealed node unsealed; one active, both others standby naming it.
    await tmux("send-keys", "-t", session, "u");
    await waitForEvent(`unsealed ${killed}`);
    const afterUnseal = await waitOneActive(urls(), 30_000);
    expect(`vault-${afterUnseal.activeIndex + 1}`).toBe(c);

    // S on the same node, a standby now: Vault refuses sys/seal there, so its
    // container is restarted and comes back sealed; the active node stays.
    await tmux("send-keys", "-t", session, "S");
    await waitForEvent(
      `sealed ${killed} by restarting its container (a standby cannot be sealed through the API)`,
    );
    expect((await nodeTruth(urlOf(killed))).health).toBe(503);
    const whileSealed = await waitOneActive(urls(), 30_000, { tolerate: [urlOf(killed)] });
    expect(`vault-${whileSealed.activeIndex + 1}`).toBe(c);
    text = await eventually("the sealed node on the screen", 10_000, async () => {
      const now = await screen();
      return /\bsealed +sealed\b/.test(nodeRows(now).find((row) => row.includes(killed)) ?? "")
        ? now
        : undefined;
    });

    await tmux("send-keys", "-t", session, "u");
    await waitForEvent(`unsealed ${killed}`, 60_000, 2);
    await waitOneActive(urls(), 30_000);
    console.log(`dashboard after s, K, t, u, S, u:\n${await screen()}`);
    await quitDashboard();
    await expectOneActive(urls(), dynamodb());
  });
});

describe("reset on a terminal", () => {
  it("lists what goes and asks; n (and a bare Enter) cancels with nothing removed; y removes it all", async () => {
    await ensureUp();
    const containers = async () =>
      (
        await docker.listContainers({
          all: true,
          filters: { label: [`com.docker.compose.project=${cluster.project}`] },
        })
      )
        .map((container) => `${container.Names[0]} ${container.Id}`)
        .sort();
    const before = await projectResources(cluster.project);
    const containersBefore = await containers();
    const keysBefore = await readFile(keysFile(), "utf8");
    expect(before.volumes).toEqual([`${cluster.project}_dynamodb-data`]);

    for (const answer of ["n\r", "\r"]) {
      const run = inTerminal(["reset"], { NO_COLOR: "1" });
      try {
        await waitForText(run, "Continue? [y/N] ");
        expect(visible(run.output())).toContain(
          [
            "This removes:",
            `  - containers and network of project ${cluster.project}`,
            `  - volume ${cluster.project}_dynamodb-data`,
            `  - state folder ${path.dirname(keysFile())} (unseal keys and root token)`,
            "Continue? [y/N] ",
          ].join("\n"),
        );
        run.type(answer);
        expect(await run.exited, run.output()).toBe(0);
        expect(run.output()).toContain("reset cancelled; nothing was removed");
      } finally {
        await run.stop();
      }
      // Nothing removed: the same containers (ids), network and volume, the same keys.
      expect(await projectResources(cluster.project)).toEqual(before);
      expect(await containers()).toEqual(containersBefore);
      expect(await readFile(keysFile(), "utf8")).toBe(keysBefore);
      await expectOneActive(urls(), dynamodb());
    }

    const run = inTerminal(["reset"], { NO_COLOR: "1" });
    try {
      await waitForText(run, "Continue? [y/N] ");
      run.type("y\r");
      expect(await run.exited, run.output()).toBe(0);
      expect(run.output()).toContain(
        `reset ${cluster.project}: removed containers, ${cluster.project}_dynamodb-data and ${path.dirname(keysFile())}`,
      );
    } finally {
      await run.stop();
    }
    expect(await projectResources(cluster.project)).toEqual({
      containers: [],
      networks: [],
      volumes: [],
    });
    expect(existsSync(path.dirname(keysFile()))).toBe(false);
  });
});
