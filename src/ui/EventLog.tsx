import { Box, Text } from "ink";
import type { HaEvent, HaEventKind } from "../core/ha-events.js";
import { clip, clockTime } from "./clip.js";

const eventColor: Partial<Record<HaEventKind, string>> = {
  "node-down": "red",
  "no-active": "red",
  split: "red",
  "action-failed": "red",
  failover: "green",
  "leader-change": "green",
  "node-up": "cyan",
  lock: "cyan",
  sealed: "yellow",
  storage: "yellow",
};

/** The newest `lines` events, oldest at the top. */
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
          color={props.color ? eventColor[event.kind] : undefined}
        >
          {clip(`${clockTime(event.at)}  ${event.message}`, props.width)}
        </Text>
      ))}
    </Box>
  );
}
