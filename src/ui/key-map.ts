import type { Key } from "ink";
import type { DashboardActions } from "../state/cluster-actions.js";

/** What a bound key does. */
export type KeyEffect =
  | { readonly kind: "quit" }
  | { readonly kind: "move"; readonly by: -1 | 1 }
  /** An action on the cluster; its label names it while it runs. */
  | { readonly kind: "cluster"; readonly run: (actions: DashboardActions) => Promise<string> }
  /** An action on the selected node; "<label> <node>" names it while it runs. */
  | {
      readonly kind: "node";
      readonly run: (actions: DashboardActions, node: string) => Promise<string>;
    };

export type KeyState = Pick<Key, "upArrow" | "downArrow" | "ctrl">;

export interface KeyBinding {
  /** The key or keys, as the help line names them. */
  readonly keys: string;
  /** What the help line says they do. */
  readonly label: string;
  /** The presses this binding answers, each with what it does. */
  readonly presses: readonly {
    readonly matches: (input: string, key: KeyState) => boolean;
    readonly effect: KeyEffect;
  }[];
}

const letter = (keys: string, label: string, effect: KeyEffect): KeyBinding => ({
  keys,
  label,
  presses: [{ matches: (input) => input === keys, effect }],
});

/**
 * The dashboard's keys, in the order the help line shows them: the help line
 * and the key handler both read this table, so they cannot disagree.
 */
export const KEY_MAP: readonly KeyBinding[] = [
  {
    keys: "↑/↓ j/k",
    label: "select",
    presses: [
      { matches: (input, key) => key.upArrow || input === "k", effect: { kind: "move", by: -1 } },
      { matches: (input, key) => key.downArrow || input === "j", effect: { kind: "move", by: 1 } },
    ],
  },
  letter("s", "step-down", { kind: "cluster", run: (actions) => actions.stepDown() }),
  letter("x", "stop", { kind: "node", run: (actions, node) => actions.container(node, "stop") }),
  letter("t", "start", { kind: "node", run: (actions, node) => actions.container(node, "start") }),
  letter("K", "kill", { kind: "node", run: (actions, node) => actions.container(node, "kill") }),
  letter("S", "seal", { kind: "node", run: (actions, node) => actions.seal(node) }),
  letter("u", "unseal all", { kind: "cluster", run: (actions) => actions.unsealAll() }),
  {
    keys: "q",
    label: "quit",
    // Ctrl-C as well: in raw mode it is a key like q, and the app has one exit point.
    presses: [
      {
        matches: (input, key) => input === "q" || (key.ctrl && input === "c"),
        effect: { kind: "quit" },
      },
    ],
  },
];

/** The binding's label and the effect of a press, or undefined for an unbound key. */
export function keyPress(
  input: string,
  key: KeyState,
): { readonly label: string; readonly effect: KeyEffect } | undefined {
  for (const binding of KEY_MAP) {
    const press = binding.presses.find((candidate) => candidate.matches(input, key));
    if (press) return { label: binding.label, effect: press.effect };
  }
  return undefined;
}
