import { Writable } from "node:stream";
import tty from "node:tty";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { createProgress } from "./progress.js";

/** A stderr stand-in that records each write; a TTY when asked, with the real TTY colour rules. */
class FakeStream extends Writable {
  readonly chunks: string[] = [];
  constructor(readonly isTTY: boolean) {
    super();
  }
  getColorDepth(env?: NodeJS.ProcessEnv) {
    return tty.WriteStream.prototype.getColorDepth.call(this, env);
  }
  override write(chunk: unknown): boolean {
    this.chunks.push(String(chunk));
    return true;
  }
  get text() {
    return this.chunks.join("");
  }
}
const asStream = (stream: FakeStream) => stream as unknown as NodeJS.WriteStream;

/** A clock the test moves by hand, in milliseconds. */
function clock(start = 1_000) {
  let time = start;
  return { now: () => time, advance: (ms: number) => (time += ms) };
}

/** An SGR (colour or style) escape sequence. */
const SGR = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`);

beforeEach(() => {
  // The rules under test read these; the caller's terminal must not decide.
  vi.stubEnv("CI", undefined);
  vi.stubEnv("FORCE_COLOR", undefined);
  vi.stubEnv("NO_COLOR", undefined);
  vi.stubEnv("NODE_DISABLE_COLORS", undefined);
  vi.stubEnv("TERM", "xterm-256color");
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.useRealTimers();
});

describe("progress off a terminal", () => {
  it("writes plain lines: the step, each milestone and the result with elapsed time", async () => {
    const stream = new FakeStream(false);
    const time = clock();
    const progress = createProgress(asStream(stream), { now: time.now });
    const result = await progress.run("starting the cluster", async (step) => {
      time.advance(500);
      step.detail("DynamoDB healthy");
      time.advance(1_040);
      step.detail("vault-1 started");
      time.advance(10);
      return 42;
    });
    expect(result).toBe(42);
    expect(stream.chunks).toEqual([
      "… starting the cluster\n",
      "  · DynamoDB healthy at 0.5s\n",
      "  · vault-1 started at 1.5s\n",
      "✔ starting the cluster (1.6s)\n",
    ]);
  });

  it("marks a failed step and rethrows its error unchanged", async () => {
    const stream = new FakeStream(false);
    const time = clock();
    const boom = new Error("compose failed");
    const progress = createProgress(asStream(stream), { now: time.now });
    const run = progress.run("building images", async () => {
      time.advance(250);
      throw boom;
    });
    await expect(run).rejects.toBe(boom);
    expect(stream.chunks).toEqual(["… building images\n", "✖ building images (0.3s)\n"]);
  });

  it("a note is one plain line", () => {
    const stream = new FakeStream(false);
    createProgress(asStream(stream)).note("keys stored in /tmp/x");
    expect(stream.chunks).toEqual(["keys stored in /tmp/x\n"]);
  });

  it("CI on a terminal still gets plain lines, not a redrawn one", async () => {
    vi.stubEnv("CI", "true");
    const stream = new FakeStream(true);
    const time = clock();
    await createProgress(asStream(stream), { now: time.now }).run("waiting", async () => {
      time.advance(100);
    });
    expect(stream.text).not.toContain("\r");
    expect(stream.text.replace(new RegExp(SGR, "g"), "")).toBe("… waiting\n✔ waiting (0.1s)\n");
  });
});

describe("quiet progress", () => {
  it("writes nothing at all, and still runs the work", async () => {
    const stream = new FakeStream(true);
    const progress = createProgress(asStream(stream), { quiet: true });
    const value = await progress.run("starting", async (step) => {
      step.detail("DynamoDB healthy");
      return "done";
    });
    progress.note("a note");
    expect(value).toBe("done");
    await expect(
      progress.run("failing", async () => Promise.reject(new Error("x"))),
    ).rejects.toThrow("x");
    expect(stream.chunks).toEqual([]);
  });
});

describe("progress on a terminal", () => {
  it("redraws one live line every 200 ms with the elapsed time and latest milestone", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    vi.stubEnv("NO_COLOR", "1");
    const stream = new FakeStream(true);
    const time = clock();
    let finish: () => void = () => {};
    const progress = createProgress(asStream(stream), { now: time.now });
    const run = progress.run("starting", (step) => {
      time.advance(100);
      step.detail("DynamoDB healthy");
      return new Promise<void>((resolve) => {
        finish = resolve;
      });
    });
    expect(stream.chunks).toEqual(["\r\x1b[2K… starting 0.0s"]);
    time.advance(100);
    await vi.advanceTimersByTimeAsync(200);
    expect(stream.chunks.at(-1)).toBe("\r\x1b[2K… starting 0.2s · DynamoDB healthy at 0.1s");
    time.advance(200);
    await vi.advanceTimersByTimeAsync(200);
    expect(stream.chunks).toHaveLength(3);
    finish();
    await run;
    expect(stream.chunks.at(-1)).toBe("\r\x1b[2K✔ starting (0.4s)\n");
    // The timer is gone: nothing is drawn after the result line.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(stream.chunks).toHaveLength(4);
    expect(stream.text).not.toMatch(SGR);
  });

  it("clears the live line and marks a failure, then stops redrawing", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval"] });
    vi.stubEnv("NO_COLOR", "1");
    const stream = new FakeStream(true);
    const time = clock();
    const run = createProgress(asStream(stream), { now: time.now }).run("unsealing", async () => {
      time.advance(1_234);
      throw new Error("sealed");
    });
    await expect(run).rejects.toThrow("sealed");
    expect(stream.chunks).toEqual(["\r\x1b[2K… unsealing 0.0s", "\r\x1b[2K✖ unsealing (1.2s)\n"]);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(stream.chunks).toHaveLength(2);
  });

  it("colours the marks unless NO_COLOR is set", async () => {
    const coloured = new FakeStream(true);
    await createProgress(asStream(coloured), { now: () => 0 }).run("x", async () => {});
    expect(coloured.chunks.at(-1)).toBe("\r\x1b[2K\x1b[32m✔\x1b[39m x \x1b[2m(0.0s)\x1b[22m\n");

    vi.stubEnv("NO_COLOR", "1");
    const plain = new FakeStream(true);
    await createProgress(asStream(plain), { now: () => 0 }).run("x", async () => {});
    expect(plain.chunks.at(-1)).toBe("\r\x1b[2K✔ x (0.0s)\n");
  });
});
