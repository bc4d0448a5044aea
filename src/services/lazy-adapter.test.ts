import { describe, expect, it, vi } from "vitest";
import { lazyAdapter } from "./lazy-adapter.js";

interface Greeter {
  greet(name: string, punctuation: string): Promise<string>;
  fail(): Promise<void>;
}

const realGreeter = (): Greeter => ({
  greet: async (name, punctuation) => `hello ${name}${punctuation}`,
  fail: async () => {
    throw new Error("refused");
  },
});

describe("a lazy adapter", () => {
  it("loads nothing until the first call, then loads once and forwards every call", async () => {
    const load = vi.fn(async () => realGreeter());
    const greeter = lazyAdapter<Greeter>(load, { greet: true, fail: true });
    expect(load).not.toHaveBeenCalled();

    const answers = await Promise.all([greeter.greet("a", "!"), greeter.greet("b", "?")]);
    expect(answers).toEqual(["hello a!", "hello b?"]);
    await expect(greeter.fail()).rejects.toThrow("refused");
    expect(load).toHaveBeenCalledTimes(1);
  });

  it("fails every call with the error of a module that does not load", async () => {
    const greeter = lazyAdapter<Greeter>(
      async () => {
        throw new Error("cannot find package");
      },
      { greet: true, fail: true },
    );
    await expect(greeter.greet("a", "!")).rejects.toThrow("cannot find package");
    await expect(greeter.fail()).rejects.toThrow("cannot find package");
  });

  it("calls the real method on the real adapter (its own `this`)", async () => {
    class Counter {
      count = 0;
      async add(step: number): Promise<number> {
        this.count += step;
        return this.count;
      }
    }
    const counter = lazyAdapter<Pick<Counter, "add">>(async () => new Counter(), { add: true });
    await counter.add(2);
    expect(await counter.add(3)).toBe(5);
  });
});
