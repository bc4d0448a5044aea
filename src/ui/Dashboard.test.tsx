import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import { fakeStatus } from "../../test/support/status-fixture.js";
import type { ClusterStatus, NodeMode } from "../core/cluster-status.js";
import type { HaEvent } from "../core/ha-events.js";
import type { DashboardState } from "../state/status-poller.js";
import { Dashboard } from "./Dashboard.js";

const now = new Date("2026-11-22T12:00:10.000Z");

function status(modes: NodeMode[], options: { dynamodbHealthy?: boolean } = {}): ClusterStatus {
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
            expiresAt: "2026-11-22T12:00:22.500Z",
          }
        : undefined,
    },
  });
}

const frame = (current: ClusterStatus, events: HaEvent[] = [], selected = 0) => {
  const state: DashboardState = { status: current, events, pollError: undefined, intervalMs: 1000 };
  const { lastFrame, unmount } = render(
    <Dashboard
      state={state}
      selected={selected}
      width={110}
      eventLines={5}
      color={false}
      now={now}
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
      /running\s+unsealed\s+active\s+1\.21\.1\s+3 ms\s+◀ ACTIVE/,
    );
    expect(line(text, "vault-2")).toMatch(/standby/);
    expect(line(text, "vault-2")).not.toContain("ACTIVE");
    expect(text).toContain(
      "DynamoDB http://127.0.0.1:8000  healthy  table vault-data ACTIVE, 42 items",
    );
    expect(text).toContain("HA lock 0f1e2d3c… held by vault-1, expires in 12.5 s");
    expect(text).toContain("q quit");
  });

  it("one node down: marked, without a URL answer", () => {
    const text = frame(status(["active", "down", "standby"]));
    expect(text).toContain("degraded");
    expect(line(text, "vault-2")).toMatch(/exited\s+-\s+down\s+-\s+-\s+✖ DOWN/);
  });

  it("a sealed node", () => {
    const text = frame(status(["active", "standby", "sealed"]));
    expect(line(text, "vault-3")).toMatch(/running\s+sealed\s+sealed/);
  });

  it("failover in progress: no active node, the event log says since when", () => {
    const events: HaEvent[] = [
      {
        at: "2026-11-22T12:00:01.000Z",
        kind: "node-down",
        node: "vault-1",
        message: "vault-1 is down (exited)",
      },
      {
        at: "2026-11-22T12:00:01.000Z",
        kind: "no-active",
        node: "vault-1",
        message: "no active node: vault-1 is down",
      },
    ];
    const text = frame(status(["down", "standby", "standby"]), events);
    expect(text).toContain("demo · no-active · every");
    expect(text).not.toContain("◀ ACTIVE");
    expect(text).toContain("12:00:01  no active node: vault-1 is down");
  });

  it("DynamoDB unhealthy", () => {
    const text = frame(status(["active", "standby"], { dynamodbHealthy: false }));
    expect(text).toContain("NOT HEALTHY (exited)");
    expect(text).toContain("HA lock: none");
  });

  it("the selected row is marked and long lines fit the width", () => {
    const text = frame(status(["active", "standby", "standby"]), [], 2);
    expect(line(text, "vault-3").startsWith("›")).toBe(true);
    for (const row of text.split("\n")) expect(row.length).toBeLessThanOrEqual(110);
  });
});
