import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ClusterNotHealthyError, ExitCode } from "../core/errors.js";
import { sleep, waitFor } from "./wait.js";

type Check = { done: true; value: string } | { done: false; last: string };

/** A check that answers from a script, one entry per call, and counts its calls. */
function scripted(...answers: Check[]) {
  let calls = 0;
  const check = vi.fn(async () => {
    const answer = answers[Math.min(calls, answers.length - 1)] as Check;
    calls++;
    return answer;
  });
  return check;
}
const notYet = (last: string): Check => ({ done: false, last });
const done = (value: string): Check => ({ done: true, value });

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date", "performance"] });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("waitFor", () => {
  it("returns the value as soon as the check is done, without sleeping", async () => {
    const check = scripted(done("vault-1"));
    await expect(waitFor("an active node", 0, check)).resolves.toBe("vault-1");
    expect(check).toHaveBeenCalledTimes(1);
  });

  it("polls once per interval until the check is done", async () => {
    const check = scripted(notYet("sealed"), notYet("sealed"), done("vault-2"));
    const result = waitFor("an active node", 10_000, check, 500);
    await vi.advanceTimersByTimeAsync(0);
    expect(check).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(499);
    expect(check).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(check).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(500);
    await expect(result).resolves.toBe("vault-2");
    expect(check).toHaveBeenCalledTimes(3);
  });

  it("polls every 100 ms unless told otherwise", async () => {
    const check = scripted(notYet("a"), done("ok"));
    const result = waitFor("x", 10_000, check);
    await vi.advanceTimersByTimeAsync(99);
    expect(check).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    await expect(result).resolves.toBe("ok");
  });

  it("times out once the budget is spent, naming what, the budget and the last thing seen", async () => {
    const check = scripted(notYet("vault-1 sealed"), notYet("vault-1 standby, no active node"));
    const result = waitFor("an active node", 1_600, check, 1_000).catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(5_000);
    const error = await result;
    expect(error).toBeInstanceOf(ClusterNotHealthyError);
    expect((error as ClusterNotHealthyError).exitCode).toBe(ExitCode.clusterNotHealthy);
    expect((error as ClusterNotHealthyError).exitCode).toBe(4);
    expect((error as Error).message).toBe(
      "timed out after 2 s waiting for an active node (last seen: vault-1 standby, no active node)",
    );
    // The library names no CLI command; the next step is data for the CLI.
    expect((error as { next?: unknown }).next).toEqual({ kind: "inspect" });
    // Checks at 0, 1000 and 2000 ms: the one at 2000 is past the 1600 ms deadline.
    expect(check).toHaveBeenCalledTimes(3);
  });

  it("a check that is done right at the deadline still wins", async () => {
    const check = scripted(notYet("starting"), done("in time"));
    const result = waitFor("DynamoDB", 1_000, check, 1_000);
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(result).resolves.toBe("in time");
  });

  it("a zero budget gives the check exactly one chance", async () => {
    const check = scripted(notYet("nothing listening"));
    await expect(waitFor("vault-3", 0, check)).rejects.toThrow(
      "timed out after 0 s waiting for vault-3 (last seen: nothing listening)",
    );
    expect(check).toHaveBeenCalledTimes(1);
  });

  it("a failing check is not a timeout: its error passes through at once", async () => {
    const boom = new Error("engine gone");
    const check = vi.fn(async (): Promise<Check> => {
      throw boom;
    });
    await expect(waitFor("anything", 10_000, check)).rejects.toBe(boom);
    expect(check).toHaveBeenCalledTimes(1);
  });
});

describe("sleep", () => {
  it("resolves after the given time, not before", async () => {
    let resolved = false;
    const pending = sleep(300).then(() => {
      resolved = true;
    });
    await vi.advanceTimersByTimeAsync(299);
    expect(resolved).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await pending;
    expect(resolved).toBe(true);
  });
});
