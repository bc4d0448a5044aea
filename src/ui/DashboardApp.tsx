import { useApp, useInput, useWindowSize } from "ink";
import { useEffect, useState } from "react";
import type { ContainerAction, DashboardActions } from "../state/cluster-actions.js";
import type { DashboardState, StatusPoller } from "../state/status-poller.js";
import { Dashboard } from "./Dashboard.js";

/**
 * Subscribes to the poller, owns the selection and the keys, renders the
 * view. The only place the dashboard exits (q, Ctrl-C): ink then restores the
 * terminal, and the command returns.
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
  const onNode = (action: ContainerAction) => {
    if (node) void poller.act(`${action} ${node}`, node, () => actions.container(node, action));
  };

  useInput((input, key) => {
    if (input === "q" || (key.ctrl && input === "c")) exit();
    else if (key.upArrow || input === "k") setSelected(Math.max(0, row - 1));
    else if (key.downArrow || input === "j") setSelected(Math.min(nodes.length - 1, row + 1));
    else if (input === "s") void poller.act("step-down", undefined, actions.stepDown);
    else if (input === "u") void poller.act("unseal all", undefined, actions.unsealAll);
    else if (input === "x") onNode("stop");
    else if (input === "t") onNode("start");
    else if (input === "K") onNode("kill");
    else if (input === "S" && node) void poller.act(`seal ${node}`, node, () => actions.seal(node));
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
