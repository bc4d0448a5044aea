import { describe, expect, it } from "vitest";
import { fakeStatus } from "../../test/support/status-fixture.js";
import type { ClusterStatus } from "../core/cluster-status.js";
import { StatusPoller } from "./status-poller.js";

const snapshot = (active: boolean, at: number): ClusterStatus =>
  fakeStatus([active ? "active" : "standby"], { at: new Date(at) });

describe("StatusPoller", () => {
  it("emits only when what is shown changed, not for a new timestamp", async () => {
    const answers = [snapshot(true, 0), snapshot(true, 1000), snapshot(false, 2000)];
    const poller = new StatusPoller({
      snapshot: async () => answers.shift() as ClusterStatus,
      intervalMs: 1000,
    });
    let changes = 0;
    poller.on("change", () => changes++);
    await poller.pollOnce();
    await poller.pollOnce();
    expect(changes).toBe(1);
    await poller.pollOnce();
    expect(changes).toBe(2);
    expect(poller.state.events.map((event) => event.kind)).toEqual(["watching", "no-active"]);
  });

  it("a poll that hangs is abandoned after its timeout and reported", async () => {
    const poller = new StatusPoller({
      snapshot: () => new Promise<never>(() => {}),
      intervalMs: 100,
      timeoutMs: 50,
    });
    await poller.pollOnce();
    expect(poller.state.pollError).toBe("no status within 50 ms");
  });

  it("never runs two polls at once, and stops", async () => {
    let inFlight = 0;
    let most = 0;
    let calls = 0;
    const poller = new StatusPoller({
      snapshot: async () => {
        calls++;
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 30));
        inFlight--;
        return snapshot(true, calls);
      },
      intervalMs: 10,
    });
    poller.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    poller.stop();
    const stoppedAt = calls;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(most).toBe(1);
    expect(calls).toBeGreaterThan(2);
    expect(calls - stoppedAt).toBeLessThanOrEqual(1);
  });

  it("logs action outcomes as events", () => {
    const poller = new StatusPoller({
      snapshot: async () => snapshot(true, 0),
      intervalMs: 1000,
      now: () => new Date(5000),
    });
    poller.log("action", "stopped vault-1's container", "vault-1");
    expect(poller.state.events).toEqual([
      {
        at: "1970-01-01T00:00:05.000Z",
        kind: "action",
        message: "stopped vault-1's container",
        node: "vault-1",
        id: 1,
      },
    ]);
  });
});
