import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI } from "../support/cli.js";
import { type CliCluster, cliCluster } from "../support/cli-cluster.js";
import { testProject } from "../support/names.js";
import { expectOneActive, waitOneActive } from "../support/oracle.js";
import { eventually } from "../support/vault-http.js";

// The dashboard in a real terminal (tmux) against a real 3-node cluster. A
// tmux server of its own (-L) keeps the test away from anyone else's sessions.
// The socket name is unique to this run, so two runs never kill each other's tmux.
const socket = testProject("dash");
const session = "dashboard";
let cluster: CliCluster;

const tmux = (...args: string[]) => execa("tmux", ["-L", socket, ...args], { reject: false });
const screen = async () => (await tmux("capture-pane", "-p", "-t", session)).stdout;
const nodeRows = (text: string) => text.split("\n").filter((row) => /^[ ›] vault-\d /.test(row));

describe("vault-ha dashboard", () => {
  beforeAll(async () => {
    const version = await execa("tmux", ["-V"], { reject: false });
    // CI provisions tmux (test/bed/with-docker.sh); without it this test fails, never skips.
    expect(version.exitCode, "tmux is required for the dashboard test (apt-get install tmux)").toBe(
      0,
    );
    cluster = await cliCluster("dash");
    // Off a terminal, --watch still brings the cluster up and only warns.
    const up = await cluster.run(["up", "--watch"]);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(up.stdout).toContain(`cluster ${cluster.project} is up`);
    await expectOneActive(cluster.urls(3));
    expect(up.stderr).toContain(
      "warning: --watch: the dashboard needs an interactive terminal; for plain output use vault-ha status --watch",
    );
    await tmux("kill-server");
    const started = await tmux(
      "new-session",
      "-d",
      "-s",
      session,
      "-x",
      "120",
      "-y",
      "40",
      "bash --norc --noprofile",
    );
    expect(started.exitCode, started.stderr).toBe(0);
  });

  afterAll(async () => {
    await tmux("kill-server");
    await cluster?.cleanup();
  });

  it("off a terminal, says to use status --watch (exit 2)", async () => {
    const result = await cluster.run(["dashboard"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(
      "the dashboard needs an interactive terminal; for plain output use vault-ha status --watch",
    );
  });

  it("in a terminal: stops the active node on a key press and logs the failover with its gap", async () => {
    const flags = `--project ${cluster.project} --vault-port ${cluster.vaultPort} --dynamodb-port ${cluster.dynamodbPort}`;
    const command = `cd ${cluster.cwd} && NO_COLOR=1 VAULT_HA_STATE_DIR=${cluster.stateDir} ${process.execPath} ${CLI} dashboard --interval 0.5 ${flags}; echo "dashboard exited with $?"`;
    await tmux("send-keys", "-t", session, command, "Enter");
    const first = await eventually("the dashboard to show an active node", 30_000, async () => {
      const text = await screen();
      return text.includes("◀ ACTIVE") && text.includes("HA lock") ? text : undefined;
    });
    // The frame starts at the top of the alternate screen, not where the shell's cursor was.
    expect(first.split("\n")[0]).toMatch(new RegExp(`^vault-ha · ${cluster.project} · `));
    const rows = nodeRows(first);
    expect(rows).toHaveLength(3);
    expect(first).toMatch(/HA lock \S+… held by vault-\d, expires in \d+ s/);
    expect(first.trimEnd().split("\n").at(-1)).toContain("x stop");
    const activeRow = rows.findIndex((row) => row.includes("◀ ACTIVE"));
    const activeName = rows[activeRow]?.match(/vault-\d/)?.[0] as string;
    for (let step = 0; step < activeRow; step++) await tmux("send-keys", "-t", session, "j");
    await eventually("the active node to be selected", 5_000, async () =>
      nodeRows(await screen()).some((row) => row.startsWith(`› ${activeName} `)),
    );
    await tmux("send-keys", "-t", session, "x");

    const after = await eventually(
      "another node active and the failover logged",
      60_000,
      async () => {
        const text = await screen();
        const nowActive = nodeRows(text).find((row) => row.includes("◀ ACTIVE"));
        // The stop call returns when the container has exited, which can be
        // after a standby took over: wait for its line and the node down too.
        return nowActive &&
          !nowActive.includes(activeName) &&
          /failover: vault-\d is active after \d+\.\d s without an active node/.test(text) &&
          text.includes(`stopped ${activeName}'s container`) &&
          text.includes(`${activeName} is down`)
          ? text
          : undefined;
      },
    );
    expect(after).toContain(`${activeName} is down`);
    // A stopping Vault seals itself on the way down: which mode a poll caught varies.
    expect(after).toMatch(new RegExp(`no active node: ${activeName} is \\w+`));
    expect(nodeRows(after).find((row) => row.includes(activeName))).toContain("✖ DOWN");
    // What the screen says is what Vault says: the node it marks active answers 200.
    const shownActive = nodeRows(after)
      .find((row) => row.includes("◀ ACTIVE"))
      ?.match(/vault-(\d)/)?.[1];
    const urls = cluster.urls(3);
    const stopped = urls[Number(activeName.slice(-1)) - 1] as string;
    const truth = await waitOneActive(urls, 30_000, { tolerate: [stopped] });
    expect(`vault-${truth.activeIndex + 1}`).toBe(`vault-${shownActive}`);
    console.log(`dashboard during a failover:\n${after}`);

    await tmux("send-keys", "-t", session, "q");
    const exited = await eventually("the shell back after q", 10_000, async () => {
      const text = await screen();
      return text.includes("dashboard exited with 0") ? text : undefined;
    });
    // The alternate screen is gone: the shell's own lines are back, the dashboard's are not.
    expect(exited).toContain(`cd ${cluster.cwd} && NO_COLOR=1`);
    expect(exited).not.toContain("◀ ACTIVE");

    // Ctrl-C is the other way out, just as clean.
    await tmux("send-keys", "-t", session, "clear", "Enter");
    await tmux("send-keys", "-t", session, command, "Enter");
    await eventually("the dashboard again", 30_000, async () =>
      (await screen()).includes("◀ ACTIVE") ? true : undefined,
    );
    await tmux("send-keys", "-t", session, "C-c");
    const interrupted = await eventually("the shell back after Ctrl-C", 10_000, async () => {
      const text = await screen();
      return text.includes("dashboard exited with 0") ? text : undefined;
    });
    expect(interrupted).not.toContain("◀ ACTIVE");
  });
});
