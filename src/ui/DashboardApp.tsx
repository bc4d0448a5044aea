import { useApp, useInput, useWindowSize } from "ink";
import { useEffect, useState } from "react";
import type { DashboardActions } from "../state/cluster-actions.js";
import type { DashboardState, StatusPoller } from "../state/status-poller.js";
import { Dashboard } from "./Dashboard.js";
import { keyPress } from "./key-map.js";

/**
 * Subscribes to the poller, owns the selection, does what the key map
 * (key-map.ts) says, renders the view. The only place the dashboard exits
 * (q, Ctrl-C): ink then restores the terminal, and the command returns.
 */
export function DashboardApp(props: {
  readonly poller: StatusPoller;
  readonly actions: DashboardActions;
  readonly color: boolean;
}) {
  const { poller, actions } = props;
  const { exit } = useApp();
  const { columns, rows } = useWindowSize();
  const [state, setState] = useState<DashboardState>(poller.state);
  const [selected, setSelected] = useState(0);

  useEffect(() => {
    // The poller may have changed between the first render and subscribing.
    setState(poller.state);
    poller.on("change", setState);
    return () => {
      poller.off("change", setState);
    };
  }, [poller]);

  const nodes = state.status?.nodes ?? [];
  const row = Math.min(selected, Math.max(0, nodes.length - 1));
  const node = nodes[row]?.name;

  useInput((input, key) => {
    const press = keyPress(input, key);
    if (!press) return;
    const { label, effect } = press;
    switch (effect.kind) {
      case "quit":
        exit();
        break;
      case "move":
        setSelected(effect.by < 0 ? Math.max(0, row - 1) : Math.min(nodes.length - 1, row + 1));
        break;
      case "cluster":
        void poller.act(label, undefined, () => effect.run(actions));
        break;
      case "node":
        if (node) void poller.act(`${label} ${node}`, node, () => effect.run(actions, node));
        break;
    }
  });

  return (
    <Dashboard
      state={state}
      selected={row}
      // One column spare: a line as wide as the terminal wraps on some terminals.
      width={Math.max(40, (columns || 80) - 1)}
      height={rows || 24}
      color={props.color}
    />
  );
}
