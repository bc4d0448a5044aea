import { describe, expect, it } from "vitest";
import type { DashboardActions } from "../state/cluster-actions.js";
import { KEY_MAP, type KeyState, keyPress } from "./key-map.js";

const plain: KeyState = { upArrow: false, downArrow: false, ctrl: false };

/** Runs a press's effect against recording actions; says what it did. */
async function effectOf(input: string, key: KeyState = plain): Promise<string | undefined> {
  const press = keyPress(input, key);
  if (!press) return undefined;
  const { label, effect } = press;
  const actions: DashboardActions = {
    stepDown: async () => "step-down",
    container: async (node, action) => `${action} ${node}`,
    seal: async (node) => `seal ${node}`,
    unsealAll: async () => "unseal all",
  };
  switch (effect.kind) {
    case "quit":
      return "quit";
    case "move":
      return `move ${effect.by}`;
    case "cluster":
      return `${label}: ${await effect.run(actions)}`;
    case "node":
      return `${label} vault-2: ${await effect.run(actions, "vault-2")}`;
  }
}

describe("the dashboard's key map", () => {
  it("each key does what its help label says", async () => {
    expect(await effectOf("k")).toBe("move -1");
    expect(await effectOf("", { ...plain, upArrow: true })).toBe("move -1");
    expect(await effectOf("j")).toBe("move 1");
    expect(await effectOf("", { ...plain, downArrow: true })).toBe("move 1");
    expect(await effectOf("s")).toBe("step-down: step-down");
    expect(await effectOf("x")).toBe("stop vault-2: stop vault-2");
    expect(await effectOf("t")).toBe("start vault-2: start vault-2");
    expect(await effectOf("K")).toBe("kill vault-2: kill vault-2");
    expect(await effectOf("S")).toBe("seal vault-2: seal vault-2");
    expect(await effectOf("u")).toBe("unseal all: unseal all");
    expect(await effectOf("q")).toBe("quit");
    expect(await effectOf("c", { ...plain, ctrl: true })).toBe("quit");
  });

  it("other keys do nothing", async () => {
    for (const input of ["c", "a", "X", " ", ""]) expect(await effectOf(input)).toBeUndefined();
  });

  it("no press answers to two bindings", () => {
    const presses: [string, KeyState][] = [
      ...[..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"].flatMap(
        (input): [string, KeyState][] => [
          [input, plain],
          [input, { ...plain, ctrl: true }],
        ],
      ),
      ["", { ...plain, upArrow: true }],
      ["", { ...plain, downArrow: true }],
    ];
    for (const [input, key] of presses) {
      const bound = KEY_MAP.filter((binding) =>
        binding.presses.some((press) => press.matches(input, key)),
      );
      expect(bound.length, `${input} ${JSON.stringify(key)}`).toBeLessThanOrEqual(1);
    }
  });
});
