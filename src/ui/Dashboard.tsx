import { Box, Text } from "ink";
import type { ClusterStatus, NodeMode, NodeStatus } from "../core/cluster-status.js";
import type { HaEvent } from "../core/ha-events.js";
import type { DashboardState } from "../state/status-poller.js";

export interface DashboardProps {
  readonly state: DashboardState;
  /** Index of the selected node row. */
  readonly selected: number;
  readonly width: number;
  /** How many event lines fit. */
  readonly eventLines: number;
  /** False under NO_COLOR: emphasis then comes from markers and bold only. */
  readonly color: boolean;
  readonly now: Date;
  /** An action running now, shown in the help line. */
  readonly busy?: string | undefined;
}

const modeColor: Record<NodeMode, string> = {
  active: "green",
  standby: "cyan",
  sealed: "yellow",
  uninitialized: "magenta",
  down: "red",
};

const clip = (text: string, width: number) =>
  text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text;
const time = (iso: string) => iso.slice(11, 19);

export function NodeRow(props: {
  readonly node: NodeStatus;
  readonly selected: boolean;
  readonly color: boolean;
  readonly width: number;
}) {
  const { node, selected, color, width } = props;
  const marker = node.mode === "active" ? "◀ ACTIVE" : node.mode === "down" ? "✖ DOWN" : "";
  const line = `${selected ? "›" : " "} ${node.name.padEnd(8)} ${(node.url ?? "-").padEnd(23)} ${node.container.padEnd(9)} ${(node.sealed === undefined ? "-" : node.sealed ? "sealed" : "unsealed").padEnd(9)} ${node.mode.padEnd(13)} ${(node.version ?? "-").padEnd(8)} ${node.latencyMs === undefined ? "-" : `${node.latencyMs} ms`.padEnd(7)} ${marker}`;
  return (
    <Text
      bold={node.mode === "active" || selected}
      inverse={selected}
      color={color ? modeColor[node.mode] : undefined}
      dimColor={node.mode === "down" && !color}
    >
      {clip(line, width)}
    </Text>
  );
}

export function NodesTable(props: {
  readonly status: ClusterStatus;
  readonly selected: number;
  readonly color: boolean;
  readonly width: number;
}) {
  const header = `  ${"NODE".padEnd(8)} ${"URL".padEnd(23)} ${"CONTAINER".padEnd(9)} ${"SEAL".padEnd(9)} ${"HA MODE".padEnd(13)} ${"VERSION".padEnd(8)} ${"LATENCY".padEnd(7)}`;
  return (
    <Box flexDirection="column">
      <Text bold>{clip(header, props.width)}</Text>
      {props.status.nodes.map((node, index) => (
        <NodeRow
          key={node.name}
          node={node}
          selected={index === props.selected}
          color={props.color}
          width={props.width}
        />
      ))}
    </Box>
  );
}

export function StoragePanel(props: {
  readonly status: ClusterStatus;
  readonly color: boolean;
  readonly width: number;
  readonly now: Date;
}) {
  const { dynamodb } = props.status;
  const lock = dynamodb.lock;
  const expiresIn = lock ? (Date.parse(lock.expiresAt) - props.now.getTime()) / 1000 : undefined;
  const lockText = lock
    ? `HA lock ${lock.identity.slice(0, 8)}… ${props.status.active ? `held by ${props.status.active}` : "holder not answering"}, ${expiresIn !== undefined && expiresIn > 0 ? `expires in ${expiresIn.toFixed(1)} s` : `expired ${Math.abs(expiresIn ?? 0).toFixed(1)} s ago`}`
    : "HA lock: none";
  return (
    <Box flexDirection="column">
      <Text
        color={props.color ? (dynamodb.healthy ? "green" : "red") : undefined}
        bold={!dynamodb.healthy}
      >
        {clip(
          `DynamoDB ${dynamodb.endpoint ?? "-"}  ${dynamodb.healthy ? "healthy" : `NOT HEALTHY (${dynamodb.container})`}  table ${dynamodb.table} ${dynamodb.tableStatus ?? "-"}, ${dynamodb.itemCount ?? "?"} items`,
          props.width,
        )}
      </Text>
      <Text>{clip(lockText, props.width)}</Text>
    </Box>
  );
}

const eventColor = (event: HaEvent): string | undefined =>
  ({
    "node-down": "red",
    "no-active": "red",
    "action-failed": "red",
    failover: "green",
    "leader-change": "green",
    sealed: "yellow",
    storage: "yellow",
  })[event.kind as string];

export function EventLog(props: {
  readonly events: readonly HaEvent[];
  readonly lines: number;
  readonly color: boolean;
  readonly width: number;
}) {
  const shown = props.events.slice(-Math.max(1, props.lines));
  return (
    <Box flexDirection="column">
      <Text bold>Events</Text>
      {shown.length === 0 ? <Text dimColor>(none yet)</Text> : null}
      {shown.map((event) => (
        <Text
          key={event.id ?? `${event.at} ${event.kind} ${event.message}`}
          color={props.color ? eventColor(event) : undefined}
        >
          {clip(`${time(event.at)}  ${event.message}`, props.width)}
        </Text>
      ))}
    </Box>
  );
}

export const HELP =
  "↑/↓ select · s step-down · x stop · t start · k kill · S seal · u unseal all · q quit";

export function Dashboard(props: DashboardProps) {
  const { state, width, color } = props;
  const { status } = state;
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
      {status ? (
        <>
          <NodesTable status={status} selected={props.selected} color={color} width={width} />
          <Text> </Text>
          <StoragePanel status={status} color={color} width={width} now={props.now} />
        </>
      ) : (
        <Text>waiting for the first snapshot…</Text>
      )}
      <Text> </Text>
      <EventLog events={state.events} lines={props.eventLines} color={color} width={width} />
      <Text dimColor>{clip(props.busy ? `${props.busy}…  (${HELP})` : HELP, width)}</Text>
    </Box>
  );
}
