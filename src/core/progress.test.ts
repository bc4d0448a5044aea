import { describe, expect, it } from "vitest";
import { type ProgressEvent, progressEvents, progressLine, SILENT } from "./progress.js";

function recorder() {
  const events: ProgressEvent[] = [];
  let clock = 0;
  const progress = progressEvents(
    (event) => events.push(event),
    () => clock,
  );
  return { events, progress, advance: (ms: number) => (clock += ms) };
}

describe("progress events", () => {
  it("without a clock of its own, times steps with the real one", async () => {
    const events: ProgressEvent[] = [];
    await progressEvents((event) => events.push(event)).run("a step", async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
    });
    const end = events.find((event) => event.kind === "step-end");
    expect(end?.kind === "step-end" && end.elapsedMs).toBeGreaterThanOrEqual(15);
  });

  it("a step reports start, its details with elapsed time, and its end", async () => {
    const { events, progress, advance } = recorder();
    const result = await progress.run("starting", async (step) => {
      advance(1_200);
      step.detail("DynamoDB healthy");
      advance(800);
      return 42;
    });
    expect(result).toBe(42);
    expect(events).toEqual([
      { kind: "step-start", label: "starting" },
      { kind: "step-detail", label: "starting", text: "DynamoDB healthy", elapsedMs: 1_200 },
      { kind: "step-end", label: "starting", ok: true, elapsedMs: 2_000 },
    ]);
    expect(events.map(progressLine)).toEqual([
      "… starting",
      "  · DynamoDB healthy at 1.2s",
      "✔ starting (2.0s)",
    ]);
  });

  it("a failing step ends with ok false and rethrows the same error", async () => {
    const { events, progress, advance } = recorder();
    const failure = new Error("boom");
    await expect(
      progress.run("initialising", async () => {
        advance(300);
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(events.at(-1)).toEqual({
      kind: "step-end",
      label: "initialising",
      ok: false,
      elapsedMs: 300,
    });
    expect(progressLine(events.at(-1) as ProgressEvent)).toBe("✖ initialising (0.3s)");
  });

  it("notes pass through; the silent default calls nothing and still runs the work", async () => {
    const { events, progress } = recorder();
    progress.note("kept the old keys");
    expect(events).toEqual([{ kind: "note", text: "kept the old keys" }]);
    expect(progressLine(events[0] as ProgressEvent)).toBe("kept the old keys");
    const done = await SILENT.run("x", async (step) => {
      step.detail("y");
      return "done";
    });
    expect(done).toBe("done");
  });
});
