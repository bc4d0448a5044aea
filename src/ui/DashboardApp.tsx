import { useApp, useInput, useWindowSize } from "ink";
import { useEffect, useState } from "react";
import type { DashboardState, StatusPoller } from "../state/status-poller.js";
import { Dashboard } from "./Dashboard.js";

/** What the keys do; the command wires them to the cluster service. */
export interface DashboardActions {
  stepDown(): Promise<string>;
  container(node: string, action: "stop" | "start" | "kill"): Promise<string>;
  seal(node: string): Promise<string>;
  unsealAll(): Promise<string>;
}

/** The container: subscribes to the poller, owns selection and keys, renders the view. */
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
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [now, setNow] = useState(() => new Date());

  useEffect(() => {
    const onChange = (next: DashboardState) => {
      setState(next);
      setNow(new Date());
    };
    poller.on("change", onChange);
    return () => {
      poller.off("change", onChange);
    };
  }, [poller]);

  const nodes = state.status?.nodes ?? [];
  const node = nodes[Math.min(selected, Math.max(0, nodes.length - 1))]?.name;

  const run = (label: string, work: () => Promise<string>) => {
    if (busy) return;
    setBusy(label);
    work()
      .then((message) => poller.log("action", message))
      .catch((error: Error) =>
        poller.log("action-failed", `${label} failed: ${error.message.split("\n")[0]}`),
      )
      .finally(() => {
        setBusy(undefined);
        void poller.pollOnce();
      });
  };

  useInput((input, key) => {
    if (input === "q" || (key.ctrl && input === "c")) {
      exit();
      return;
    }
    if (key.upArrow) setSelected((index) => Math.max(0, index - 1));
    else if (key.downArrow) setSelected((index) => Math.min(nodes.length - 1, index + 1));
    else if (input === "s") run("step-down", actions.stepDown);
    else if (input === "u") run("unseal all", actions.unsealAll);
    else if (node && input === "x") run(`stop ${node}`, () => actions.container(node, "stop"));
    else if (node && input === "t") run(`start ${node}`, () => actions.container(node, "start"));
    else if (node && input === "k") run(`kill ${node}`, () => actions.container(node, "kill"));
    else if (node && input === "S") run(`seal ${node}`, () => actions.seal(node));
  });

  // Header, table, storage, blank lines and help take about 9 + nodes rows.
  const eventLines = Math.max(3, (rows || 24) - nodes.length - 11);
  return (
    <Dashboard
      state={state}
      selected={selected}
      width={Math.max(40, (columns || 80) - 1)}
      eventLines={eventLines}
      color={props.color}
      now={now}
      busy={busy}
    />
  );
}
