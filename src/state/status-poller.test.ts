import { describe, expect, it } from "vitest";
import { fakeStatus } from "../../test/support/status-fixture.js";
import type { ClusterStatus } from "../core/cluster-status.js";
import { StatusPoller } from "./status-poller.js";

const snapshot = (active: boolean, at: number): ClusterStatus =>
  fakeStatus([active ? "active" : "standby"], { at: new Date(at) });

/** Snapshots that take `delayMs`, counting calls and the most ever in flight. */
function slowSnapshots(delayMs: number) {
  const counter = {
    calls: 0,
    inFlight: 0,
    most: 0,
    snapshot: async (): Promise<ClusterStatus> => {
      counter.calls++;
      counter.inFlight++;
      counter.most = Math.max(counter.most, counter.inFlight);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      counter.inFlight--;
      return snapshot(true, counter.calls);
    },
  };
  return counter;
}

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
    const counter = slowSnapshots(30);
    const poller = new StatusPoller({ snapshot: counter.snapshot, intervalMs: 10 });
    poller.start();
    await new Promise((resolve) => setTimeout(resolve, 200));
    poller.stop();
    const stoppedAt = counter.calls;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(counter.most).toBe(1);
    expect(counter.calls).toBeGreaterThan(2);
    expect(counter.calls - stoppedAt).toBeLessThanOrEqual(1);
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

  it("a poll asked for while one runs follows it, never overlapping it", async () => {
    const counter = slowSnapshots(20);
    const poller = new StatusPoller({ snapshot: counter.snapshot, intervalMs: 1000 });
    const first = poller.pollOnce();
    const second = poller.pollOnce();
    const third = poller.pollOnce();
    expect(second).toBe(third);
    await Promise.all([first, second, third]);
    expect(counter.most).toBe(1);
    expect(counter.calls).toBe(2);
  });

  it("emits when the HA lock's remaining seconds change, not for a renewal-less poll within the second", async () => {
    const lock = { identity: "id", expiresAt: new Date(15_000).toISOString() };
    const at = (ms: number) => fakeStatus(["active"], { at: new Date(ms), dynamodb: { lock } });
    const answers = [at(0), at(200), at(1_000)];
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
  });

  it("runs one action at a time, logs its outcome, and shows it as busy meanwhile", async () => {
    const poller = new StatusPoller({
      snapshot: async () => snapshot(true, 0),
      intervalMs: 1000,
      now: () => new Date(5000),
    });
    let finish: (message: string) => void = () => {};
    const first = poller.act(
      "stop vault-1",
      "vault-1",
      () => new Promise<string>((resolve) => (finish = resolve)),
    );
    expect(poller.state.busy).toBe("stop vault-1");
    await poller.act("step-down", undefined, async () => "never runs");
    finish("stopped vault-1's container");
    await first;
    expect(poller.state.busy).toBeUndefined();
    expect(poller.state.events.map((event) => [event.kind, event.message])).toEqual([
      ["action-failed", "step-down: not started, stop vault-1 is still running"],
      ["action", "stopped vault-1's container"],
    ]);
    await poller.act("unseal all", undefined, async () => {
      throw new Error("no keys stored for project p\nmore detail");
    });
    expect(poller.state.events.at(-1)?.message).toBe(
      "unseal all failed: no keys stored for project p",
    );
  });
});
