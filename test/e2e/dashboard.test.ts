import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLI } from "../support/cli.js";
import { type CliCluster, cliCluster } from "../support/cli-cluster.js";
import { eventually } from "../support/vault-http.js";

// The dashboard in a real terminal (tmux) against a real 3-node cluster.
const session = "vha-e2e-dashboard";
let cluster: CliCluster;

const tmux = (...args: string[]) => execa("tmux", args, { reject: false });
const screen = async () => (await tmux("capture-pane", "-p", "-t", session)).stdout;

describe("vault-ha dashboard in a real terminal", () => {
  beforeAll(async () => {
    const version = await tmux("-V");
    // CI provisions tmux (test/bed/with-docker.sh); without it this test fails, never skips.
    expect(version.exitCode, "tmux is required for the dashboard test").toBe(0);
    cluster = await cliCluster("vha-e2e-dash", { vault: 23200, dynamodb: 23000 });
    const up = await cluster.run(["up"]);
    expect(up.exitCode, up.stderr).toBe(0);
    await tmux("kill-session", "-t", session);
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
    await tmux("kill-session", "-t", session);
    await cluster.cleanup();
  });

  it("shows the cluster, stops the active node on a key press, and logs the failover with its gap", async () => {
    const flags = `--project ${cluster.project} --vault-port ${cluster.vaultPort} --dynamodb-port ${cluster.dynamodbPort}`;
    await tmux(
      "send-keys",
      "-t",
      session,
      `cd ${cluster.cwd} && NO_COLOR=1 VAULT_HA_STATE_DIR=${cluster.stateDir} ${process.execPath} ${CLI} dashboard --interval 0.5 ${flags}; echo "dashboard exited with $?"`,
      "Enter",
    );
    const first = await eventually("the dashboard to show an active node", 30_000, async () => {
      const text = await screen();
      return text.includes("◀ ACTIVE") && text.includes("HA lock") ? text : undefined;
    });
    const rows = first.split("\n").filter((row) => /^[ ›] vault-\d /.test(row));
    expect(rows).toHaveLength(3);
    const activeRow = rows.findIndex((row) => row.includes("◀ ACTIVE"));
    const activeName = rows[activeRow]?.match(/vault-\d/)?.[0] as string;
    for (let step = 0; step < activeRow; step++) await tmux("send-keys", "-t", session, "Down");
    await eventually("the active node to be selected", 5_000, async () =>
      (await screen()).split("\n").some((row) => row.startsWith(`› ${activeName} `)),
    );
    await tmux("send-keys", "-t", session, "x");

    const after = await eventually(
      "another node active and the failover logged",
      60_000,
      async () => {
        const text = await screen();
        const nowActive = text
          .split("\n")
          .find((row) => /^[ ›] vault-\d /.test(row) && row.includes("◀ ACTIVE"));
        return nowActive &&
          !nowActive.includes(activeName) &&
          /failover: vault-\d is active after \d+\.\d s without an active node/.test(text)
          ? text
          : undefined;
      },
    );
    expect(after).toContain(`stopped ${activeName}'s container`);
    expect(after).toContain(`${activeName} is down`);
    console.log(`dashboard during a failover:\n${after}`);

    await tmux("send-keys", "-t", session, "q");
    const exited = await eventually("the shell back after q", 10_000, async () => {
      const text = await screen();
      return text.includes("dashboard exited with 0") ? text : undefined;
    });
    expect(exited).toContain("dashboard exited with 0");
  });
});
