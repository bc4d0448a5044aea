import { describe, expect, it } from "vitest";
import { fakeStatus } from "../../test/support/status-fixture.js";
import {
  activeOtherThan,
  everyNodeAnswers,
  nodesSealed,
  oneActiveAllStandby,
  oneActiveNode,
} from "./readiness.js";

describe("readiness conditions", () => {
  it("everyNodeAnswers: any mode but down; names the nodes still down", () => {
    const sealed = fakeStatus(["sealed", "uninitialized", "standby"]);
    expect(everyNodeAnswers.check(sealed)).toEqual({ done: true, value: sealed });
    expect(everyNodeAnswers.check(fakeStatus(["sealed", "down", "down"]))).toEqual({
      done: false,
      last: "vault-2 exited, vault-3 exited",
    });
  });

  it("oneActiveNode: an active node, whatever the others are", () => {
    expect(oneActiveNode.check(fakeStatus(["down", "active", "sealed"])).done).toBe(true);
    expect(oneActiveNode.check(fakeStatus(["standby", "standby", "sealed"]))).toEqual({
      done: false,
      last: "vault-1 standby, vault-2 standby, vault-3 sealed",
    });
    // Two actives are not "one active node".
    expect(oneActiveNode.check(fakeStatus(["active", "active", "standby"])).done).toBe(false);
  });

  it("oneActiveAllStandby: one active and every other a standby", () => {
    expect(oneActiveAllStandby.check(fakeStatus(["standby", "active", "standby"])).done).toBe(true);
    expect(oneActiveAllStandby.check(fakeStatus(["sealed", "active", "standby"]))).toEqual({
      done: false,
      last: "vault-1 sealed, vault-2 active, vault-3 standby",
    });
    expect(oneActiveAllStandby.what).toBe(
      "exactly one active node with every other node a standby",
    );
  });

  it("activeOtherThan: done only when another node holds the lock", () => {
    const condition = activeOtherThan("vault-1");
    expect(condition.check(fakeStatus(["active", "standby", "standby"])).done).toBe(false);
    expect(condition.check(fakeStatus(["sealed", "standby", "active"]))).toEqual({
      done: true,
      value: "vault-3",
    });
    expect(condition.what).toBe("a node other than vault-1 to become active");
  });

  it("nodesSealed: every named node, and names those still unsealed", () => {
    const condition = nodesSealed(["vault-1", "vault-3"]);
    expect(condition.check(fakeStatus(["sealed", "active", "sealed"])).done).toBe(true);
    expect(condition.check(fakeStatus(["sealed", "active", "standby"]))).toEqual({
      done: false,
      last: "vault-3",
    });
    // The timeout message names what was awaited, and every node still pending.
    expect(condition.what).toBe("vault-1, vault-3 to report sealed");
    expect(condition.check(fakeStatus(["standby", "active", "standby"]))).toEqual({
      done: false,
      last: "vault-1, vault-3",
    });
  });

  it("nodesSealed: a named node the snapshot does not have is not sealed (no crash)", () => {
    expect(nodesSealed(["vault-9"]).check(fakeStatus(["sealed"]))).toEqual({
      done: false,
      last: "vault-9",
    });
  });
});
