import { Box, Text } from "ink";
import type { ClusterStatus, NodeMode } from "../core/cluster-status.js";
import { type NodeRow, nodeRows } from "../core/node-rows.js";
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
  readonly value: (row: NodeRow) => string;
  /** Columns with a rank go first on a narrow terminal, lowest rank first. */
  readonly dropRank?: number;
}

// By mode rather than the one active node: during a split every node that
// claims the lock stands out.
const marker = (row: NodeRow) =>
  row.mode === "active" ? "◀ ACTIVE" : row.mode === "down" ? "✖ DOWN" : "";
const MARKER_WIDTH = "◀ ACTIVE".length;

function columnsFor(rows: readonly NodeRow[], width: number): Column[] {
  const all: Column[] = [
    { title: "NODE", width: 8, value: (row) => row.name },
    {
      title: "URL",
      width: Math.max(3, ...rows.map((row) => row.url.length)),
      value: (row) => row.url,
      dropRank: 1,
    },
    { title: "CONTAINER", width: 10, value: (row) => row.container, dropRank: 4 },
    { title: "SEAL", width: 8, value: (row) => row.seal },
    { title: "HA MODE", width: 13, value: (row) => row.mode },
    { title: "VERSION", width: 8, value: (row) => row.version, dropRank: 2 },
    { title: "LATENCY", width: 7, value: (row) => row.latency, dropRank: 3 },
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

function Row(props: {
  readonly row: NodeRow;
  readonly columns: readonly Column[];
  readonly selected: boolean;
  readonly color: boolean;
  readonly width: number;
}) {
  const { row, selected, color } = props;
  const line = `${selected ? "›" : " "} ${cells(props.columns, (column) => column.value(row))} ${marker(row)}`;
  return (
    <Text
      bold={row.mode === "active" || selected}
      inverse={selected}
      color={color ? modeColor[row.mode] : undefined}
      dimColor={row.mode === "down" && !color}
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
  const rows = nodeRows(props.status);
  const columns = columnsFor(rows, props.width);
  return (
    <Box flexDirection="column">
      <Text bold>
        {clip(`  ${cells(columns, (column) => column.title)}`.trimEnd(), props.width)}
      </Text>
      {rows.map((row, index) => (
        <Row
          key={row.name}
          row={row}
          columns={columns}
          selected={index === props.selected}
          color={props.color}
          width={props.width}
        />
      ))}
    </Box>
  );
}
