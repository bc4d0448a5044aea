import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
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

describe("StatusPoller on a fake clock", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Snapshots that take `ms` of fake time; records when each one started. */
  function timed(ms: number) {
    const origin = performance.now();
    const starts: number[] = [];
    return {
      starts,
      snapshot: async (): Promise<ClusterStatus> => {
        starts.push(performance.now() - origin);
        if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
        return snapshot(true, 0);
      },
    };
  }

  it("starts a poll every interval, counted from the start of the one before", async () => {
    const snapshots = timed(300);
    const poller = new StatusPoller({ snapshot: snapshots.snapshot, intervalMs: 1_000 });
    poller.start();
    poller.start();
    await vi.advanceTimersByTimeAsync(2_500);
    poller.stop();
    expect(snapshots.starts).toEqual([0, 1_000, 2_000]);
  });

  it("a poll slower than the interval is followed at once, never overlapped", async () => {
    const snapshots = timed(1_500);
    const poller = new StatusPoller({
      snapshot: snapshots.snapshot,
      intervalMs: 1_000,
      timeoutMs: 10_000,
    });
    poller.start();
    await vi.advanceTimersByTimeAsync(3_100);
    poller.stop();
    // setTimeout's shortest delay is 1 ms, in Node as on this fake clock.
    expect(snapshots.starts).toEqual([0, 1_501, 3_002]);
  });

  it("stop() between polls leaves no timer behind", async () => {
    const snapshots = timed(300);
    const poller = new StatusPoller({ snapshot: snapshots.snapshot, intervalMs: 1_000 });
    poller.start();
    await vi.advanceTimersByTimeAsync(500);
    poller.stop();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(snapshots.starts).toEqual([0]);
  });

  it("stop() during a poll: the poll ends and nothing is scheduled after it", async () => {
    const snapshots = timed(300);
    const poller = new StatusPoller({ snapshot: snapshots.snapshot, intervalMs: 1_000 });
    poller.start();
    await vi.advanceTimersByTimeAsync(100);
    poller.stop();
    await vi.advanceTimersByTimeAsync(300);
    expect(poller.state.status).toBeDefined();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(snapshots.starts).toEqual([0]);
  });

  it("a poll that answers leaves no timeout timer behind", async () => {
    const poller = new StatusPoller({ snapshot: timed(0).snapshot, intervalMs: 1_000 });
    await poller.pollOnce();
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each([
    [100, 3_000],
    [2_000, 6_000],
  ])(
    "without a timeout, a poll every %d ms is abandoned after %d ms",
    async (intervalMs, budget) => {
      const poller = new StatusPoller({ snapshot: () => new Promise<never>(() => {}), intervalMs });
      const poll = poller.pollOnce();
      await vi.advanceTimersByTimeAsync(budget - 1);
      expect(poller.state.pollError).toBeUndefined();
      await vi.advanceTimersByTimeAsync(1);
      await poll;
      expect(poller.state.pollError).toBe(`no status within ${budget} ms`);
    },
  );

  it("an action on a running poller is followed by a poll at once; on a stopped one, not", async () => {
    const snapshots = timed(0);
    const poller = new StatusPoller({ snapshot: snapshots.snapshot, intervalMs: 1_000 });
    await poller.act("seal vault-1", "vault-1", async () => "sealed vault-1");
    expect(snapshots.starts).toEqual([]);
    poller.start();
    await vi.advanceTimersByTimeAsync(100);
    expect(snapshots.starts).toEqual([0]);
    await poller.act("seal vault-1", "vault-1", async () => "sealed vault-1");
    expect(snapshots.starts).toEqual([0, 100]);
    poller.stop();
  });
});

describe("StatusPoller's event log", () => {
  const poller = (maxEvents?: number) =>
    new StatusPoller({
      snapshot: async () => snapshot(true, 0),
      intervalMs: 1_000,
      now: () => new Date(0),
      ...(maxEvents === undefined ? {} : { maxEvents }),
    });

  it("numbers each event once; earlier events keep their numbers", () => {
    const log = poller();
    log.log("action", "one");
    log.log("action", "two");
    log.log("action-failed", "three", "vault-2");
    expect(log.state.events).toEqual([
      { at: "1970-01-01T00:00:00.000Z", kind: "action", message: "one", id: 1 },
      { at: "1970-01-01T00:00:00.000Z", kind: "action", message: "two", id: 2 },
      {
        at: "1970-01-01T00:00:00.000Z",
        kind: "action-failed",
        message: "three",
        node: "vault-2",
        id: 3,
      },
    ]);
  });

  it("keeps the newest maxEvents events", () => {
    const log = poller(3);
    for (let index = 1; index <= 3; index++) log.log("action", `event ${index}`);
    expect(log.state.events.map((event) => event.id)).toEqual([1, 2, 3]);
    log.log("action", "event 4");
    log.log("action", "event 5");
    expect(log.state.events.map((event) => [event.id, event.message])).toEqual([
      [3, "event 3"],
      [4, "event 4"],
      [5, "event 5"],
    ]);
  });

  it("keeps 200 events unless told otherwise", () => {
    const log = poller();
    for (let index = 1; index <= 205; index++) log.log("action", `event ${index}`);
    expect(log.state.events).toHaveLength(200);
    expect(log.state.events[0]?.id).toBe(6);
  });

  it("a failed action is logged as action-failed with the first line of its error", async () => {
    const log = poller();
    await log.act("step-down", undefined, async () => {
      throw "plain string\nsecond line";
    });
    expect(log.state.events).toEqual([
      expect.objectContaining({ kind: "action-failed", message: "step-down failed: plain string" }),
    ]);
  });
});
