import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import { fakeStatus } from "../../test/support/status-fixture.js";
import type { ClusterStatus, NodeMode } from "../core/cluster-status.js";
import type { HaEvent } from "../core/ha-events.js";
import type { DashboardState } from "../state/status-poller.js";
import { Dashboard } from "./Dashboard.js";
import { HELP } from "./HelpLine.js";

const now = new Date("2026-11-22T12:00:10.000Z");

function status(
  modes: NodeMode[],
  options: { dynamodbHealthy?: boolean; lockExpiresAt?: string } = {},
): ClusterStatus {
  const healthy = options.dynamodbHealthy ?? true;
  return fakeStatus(modes, {
    at: now,
    project: "demo",
    dynamodb: {
      container: healthy ? "running" : "exited",
      healthy,
      endpoint: "http://127.0.0.1:8000",
      tableStatus: healthy ? "ACTIVE" : undefined,
      itemCount: healthy ? 42 : undefined,
      lock: healthy
        ? {
            identity: "0f1e2d3c-aaaa-bbbb-cccc-000000000000",
            expiresAt: options.lockExpiresAt ?? "2026-11-22T12:00:22.000Z",
          }
        : undefined,
    },
  });
}

const frame = (
  current: ClusterStatus,
  options: { events?: HaEvent[]; selected?: number; width?: number; busy?: string } = {},
) => {
  const state: DashboardState = {
    status: current,
    events: options.events ?? [],
    pollError: undefined,
    intervalMs: 1000,
    busy: options.busy,
  };
  const { lastFrame, unmount } = render(
    <Dashboard
      state={state}
      selected={options.selected ?? 0}
      width={options.width ?? 110}
      height={30}
      color={false}
    />,
  );
  const text = lastFrame() ?? "";
  unmount();
  return text;
};
const line = (text: string, node: string) =>
  text.split("\n").find((row) => row.startsWith(`  ${node} `) || row.startsWith(`› ${node} `)) ??
  "";

describe("Dashboard on a fake terminal", () => {
  it("all healthy: one active node stands out, storage and lock shown", () => {
    const text = frame(status(["active", "standby", "standby"]));
    expect(text).toContain("vault-ha · demo · healthy · vault-1 active · every 1.0 s");
    expect(line(text, "vault-1")).toMatch(
      /http:\/\/127\.0\.0\.1:8200\s+running\s+unsealed\s+active\s+1\.21\.1\s+3 ms\s+◀ ACTIVE$/,
    );
    expect(line(text, "vault-2")).toMatch(/standby/);
    expect(line(text, "vault-2")).not.toContain("ACTIVE");
    expect(text).toContain(
      "DynamoDB http://127.0.0.1:8000  healthy  table vault-data ACTIVE, 42 items",
    );
    expect(text).toContain("HA lock 0f1e2d3c… held by vault-1, expires in 12 s");
    expect(text).toContain("Events\n(none yet)");
    expect(text.split("\n").at(-1)).toBe(HELP);
  });

  it("one node down: marked, with no seal state or version", () => {
    const text = frame(status(["active", "down", "standby"]));
    expect(text).toContain("demo · degraded · vault-1 active");
    expect(line(text, "vault-2")).toMatch(/exited\s+-\s+down\s+-\s+-\s+✖ DOWN$/);
  });

  it("a sealed node", () => {
    const text = frame(status(["active", "standby", "sealed"]));
    expect(line(text, "vault-3")).toMatch(/running\s+sealed\s+sealed\s+1\.21\.1/);
    expect(line(text, "vault-3")).not.toMatch(/ACTIVE|DOWN/);
  });

  it("failover in progress: no active node, the lock runs out, the log says since when", () => {
    const events: HaEvent[] = [
      {
        at: "2026-11-22T12:00:01.000Z",
        kind: "node-down",
        node: "vault-1",
        message: "vault-1 is down (container exited)",
        id: 1,
      },
      {
        at: "2026-11-22T12:00:01.000Z",
        kind: "no-active",
        node: "vault-1",
        message: "no active node: vault-1 is down",
        id: 2,
      },
    ];
    const text = frame(
      status(["down", "standby", "standby"], { lockExpiresAt: "2026-11-22T12:00:07.000Z" }),
      { events },
    );
    expect(text).toContain("vault-ha · demo · no-active · every 1.0 s");
    expect(text).not.toContain("◀ ACTIVE");
    expect(line(text, "vault-1")).toContain("✖ DOWN");
    expect(text).toContain("HA lock 0f1e2d3c… not renewed (no active node), expired 3 s ago");
    expect(text).toContain(
      "12:00:01  vault-1 is down (container exited)\n12:00:01  no active node: vault-1 is down",
    );
  });

  it("a load balancer: its address and whether it reaches the active node", () => {
    const base = status(["active", "standby", "standby"]);
    const reaching = frame({
      ...base,
      loadBalancer: { url: "https://127.0.0.1:8100", container: "running", reachesActive: true },
    });
    expect(reaching).toContain("Balancer https://127.0.0.1:8100  reaches the active node");
    const lost = frame({
      ...base,
      loadBalancer: { url: "https://127.0.0.1:8100", container: "running", reachesActive: false },
    });
    expect(lost).toContain("Balancer https://127.0.0.1:8100  reaches no active node");
    expect(frame(base)).not.toContain("Balancer");
  });

  it("DynamoDB unhealthy", () => {
    const text = frame(status(["active", "standby"], { dynamodbHealthy: false }));
    expect(text).toContain(
      "DynamoDB http://127.0.0.1:8000  NOT HEALTHY (exited)  table vault-data -, ? items",
    );
    expect(text).toContain("HA lock: no lock item");
  });

  it("no cluster yet: says what to run", () => {
    const absent: ClusterStatus = {
      ...status(["down", "down"], { dynamodbHealthy: false }),
      summary: "absent",
    };
    const text = frame(absent);
    expect(text.split("\n").slice(0, 2)).toEqual([
      "vault-ha · demo · absent · every 1.0 s",
      "no container of this project exists; start it with vault-ha up (same flags)",
    ]);
  });

  it("the selected row is marked and long lines fit the width", () => {
    const text = frame(status(["active", "standby", "standby"]), { selected: 2 });
    expect(line(text, "vault-3").startsWith("› vault-3")).toBe(true);
    for (const row of text.split("\n")) expect(row.length).toBeLessThanOrEqual(110);
  });

  it("on a narrow terminal the details go, the markers stay", () => {
    const text = frame(status(["active", "down", "standby"]), { width: 50 });
    for (const row of text.split("\n")) expect(row.length).toBeLessThanOrEqual(50);
    expect(text).not.toContain("http://127.0.0.1:8200");
    expect(line(text, "vault-1")).toMatch(/unsealed\s+active\s+◀ ACTIVE$/);
    expect(line(text, "vault-2")).toMatch(/✖ DOWN$/);
  });

  it("an action running is shown before the keys", () => {
    const text = frame(status(["active", "standby"]), { busy: "stop vault-1" });
    expect(text.split("\n").at(-1)).toMatch(/^stop vault-1… · ↑\/↓ j\/k select · s step-down/);
  });

  it("on a narrow terminal the help wraps instead of losing keys", () => {
    const text = frame(status(["active", "standby"]), { width: 50 });
    expect(text.split("\n").slice(-2)).toEqual([
      "↑/↓ j/k select · s step-down · x stop · t start",
      "K kill · S seal · u unseal all · q quit",
    ]);
  });

  it("the help line names every key", () => {
    expect(HELP).toBe(
      "↑/↓ j/k select · s step-down · x stop · t start · K kill · S seal · u unseal all · q quit",
    );
  });
});

describe("alarms", () => {
  it("shows a stuck lock under the title, and nothing when the cluster is healthy", () => {
    const stuck = frame(
      status(["down", "standby", "standby"], { lockExpiresAt: "2026-11-22T11:59:30.000Z" }),
    );
    // Clipped to the 110 columns with an ellipsis, like every other line.
    expect(stuck.split("\n")[1]).toBe(
      "ALARM the HA lock expired 40 s ago and no node is active: a stuck lock (standbys vault-2, vault-3 do not take…",
    );
    expect(frame(status(["active", "standby", "standby"]))).not.toContain("ALARM");
  });

  it("shows two active nodes as split brain", () => {
    expect(frame(status(["active", "active", "standby"]))).toContain(
      "ALARM vault-1 and vault-2 both answer as active: split brain",
    );
  });
});
