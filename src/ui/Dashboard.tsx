import { Box, Text } from "ink";
import type { ClusterSummary } from "../core/cluster-status.js";
import { haAlarms } from "../core/ha-alarms.js";
import type { DashboardState } from "../state/status-poller.js";
import { clip } from "./clip.js";
import { EventLog } from "./EventLog.js";
import { HelpLine, helpLines } from "./HelpLine.js";
import { NodesTable } from "./NodesTable.js";
import { StoragePanel } from "./StoragePanel.js";

export interface DashboardProps {
  readonly state: DashboardState;
  /** Index of the selected node row. */
  readonly selected: number;
  /** The terminal's size; the event log gets the rows the rest leaves. */
  readonly width: number;
  readonly height: number;
  /** False under NO_COLOR: emphasis then comes from markers, bold and inverse only. */
  readonly color: boolean;
}

// What to do next when there is nothing to watch yet.
const notices: Partial<Record<ClusterSummary, string>> = {
  absent: "no container of this project exists; start it with vault-ha up (same flags)",
  uninitialized: "Vault is not initialised; vault-ha up (same flags) initialises and unseals it",
};

/** The whole screen, from the poller's state alone. */
export function Dashboard(props: DashboardProps) {
  const { state, width, color } = props;
  const { status } = state;
  const nodes = status?.nodes.length ?? 0;
  const storageLines = status?.dynamodb.error ? 3 : 2;
  const help = helpLines(state.busy, width).length;
  const notice = status ? notices[status.summary] : undefined;
  const alarms = status ? haAlarms(status) : [];
  // Title, table header, two blank lines, "Events", then the help.
  const fixed =
    5 + nodes + storageLines + help + (state.pollError ? 1 : 0) + (notice ? 1 : 0) + alarms.length;
  const eventLines = Math.max(1, props.height - fixed);
  return (
    <Box flexDirection="column" width={width}>
      <Text bold>
        {clip(
          `vault-ha · ${status?.project ?? "…"} · ${status ? status.summary : "connecting"}${status?.active ? ` · ${status.active} active` : ""} · every ${(state.intervalMs / 1000).toFixed(1)} s`,
          width,
        )}
      </Text>
      {state.pollError ? (
        <Text color={color ? "red" : undefined}>
          {clip(`poll failed: ${state.pollError}`, width)}
        </Text>
      ) : null}
      {notice ? <Text color={color ? "yellow" : undefined}>{clip(notice, width)}</Text> : null}
      {alarms.map((alarm) => (
        // Inverse as well as red: an alarm stands out under NO_COLOR too.
        <Text key={alarm.kind} color={color ? "red" : undefined} bold inverse>
          {clip(`ALARM ${alarm.message}`, width)}
        </Text>
      ))}
      {status ? (
        <>
          <NodesTable status={status} selected={props.selected} color={color} width={width} />
          <Text> </Text>
          <StoragePanel status={status} color={color} width={width} />
        </>
      ) : (
        <Text>waiting for the first snapshot…</Text>
      )}
      <Text> </Text>
      <EventLog events={state.events} lines={eventLines} color={color} width={width} />
      <HelpLine busy={state.busy} width={width} />
    </Box>
  );
}
