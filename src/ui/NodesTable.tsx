import { Box, Text } from "ink";
import type { ClusterStatus, NodeMode, NodeStatus } from "../core/cluster-status.js";
import { clip } from "./clip.js";

const modeColor: Record<NodeMode, string> = {
  active: "green",
  standby: "cyan",
  sealed: "yellow",
  uninitialized: "magenta",
  down: "red",
};

interface Column {
  readonly title: string;
  readonly width: number;
  readonly value: (node: NodeStatus) => string;
  /** Columns with a rank go first on a narrow terminal, lowest rank first. */
  readonly dropRank?: number;
}

const seal = (node: NodeStatus) =>
  node.sealed === undefined ? "-" : node.sealed ? "sealed" : "unsealed";
const marker = (node: NodeStatus) =>
  node.mode === "active" ? "◀ ACTIVE" : node.mode === "down" ? "✖ DOWN" : "";
const MARKER_WIDTH = "◀ ACTIVE".length;

function columnsFor(nodes: readonly NodeStatus[], width: number): Column[] {
  const all: Column[] = [
    { title: "NODE", width: 8, value: (node) => node.name },
    {
      title: "URL",
      width: Math.max(3, ...nodes.map((node) => (node.url ?? "-").length)),
      value: (node) => node.url ?? "-",
      dropRank: 1,
    },
    { title: "CONTAINER", width: 10, value: (node) => node.container, dropRank: 4 },
    { title: "SEAL", width: 8, value: seal },
    { title: "HA MODE", width: 13, value: (node) => node.mode },
    { title: "VERSION", width: 8, value: (node) => node.version ?? "-", dropRank: 2 },
    {
      title: "LATENCY",
      width: 7,
      value: (node) => (node.latencyMs === undefined ? "-" : `${node.latencyMs} ms`),
      dropRank: 3,
    },
  ];
  const needed = (columns: Column[]) =>
    2 + columns.reduce((sum, column) => sum + column.width + 1, 0) + MARKER_WIDTH;
  // The marker column stays: on a narrow terminal the active and down nodes
  // must still stand out, so the URL and the details go first.
  const droppable = all
    .filter((column) => column.dropRank !== undefined)
    .sort((a, b) => (a.dropRank ?? 0) - (b.dropRank ?? 0));
  let shown = all;
  for (const column of droppable) {
    if (needed(shown) <= width) break;
    shown = shown.filter((candidate) => candidate !== column);
  }
  return shown;
}

const cells = (columns: readonly Column[], value: (column: Column) => string) =>
  columns.map((column) => value(column).padEnd(column.width)).join(" ");

export function NodeRow(props: {
  readonly node: NodeStatus;
  readonly columns: readonly Column[];
  readonly selected: boolean;
  readonly color: boolean;
  readonly width: number;
}) {
  const { node, selected, color } = props;
  const line = `${selected ? "›" : " "} ${cells(props.columns, (column) => column.value(node))} ${marker(node)}`;
  return (
    <Text
      bold={node.mode === "active" || selected}
      inverse={selected}
      color={color ? modeColor[node.mode] : undefined}
      dimColor={node.mode === "down" && !color}
    >
      {clip(line.trimEnd(), props.width)}
    </Text>
  );
}

/** One row per node; the active node and down nodes carry a marker, in color or not. */
export function NodesTable(props: {
  readonly status: ClusterStatus;
  readonly selected: number;
  readonly color: boolean;
  readonly width: number;
}) {
  const columns = columnsFor(props.status.nodes, props.width);
  return (
    <Box flexDirection="column">
      <Text bold>
        {clip(`  ${cells(columns, (column) => column.title)}`.trimEnd(), props.width)}
      </Text>
      {props.status.nodes.map((node, index) => (
        <NodeRow
          key={node.name}
          node={node}
          columns={columns}
          selected={index === props.selected}
          color={props.color}
          width={props.width}
        />
      ))}
    </Box>
  );
}
