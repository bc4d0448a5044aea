import { Box, Text } from "ink";
import { clip } from "./clip.js";

/** The keys, in the order the help line shows them. DashboardApp maps the same letters. */
export const KEYS: readonly { readonly keys: string; readonly action: string }[] = [
  { keys: "↑/↓ j/k", action: "select" },
  { keys: "s", action: "step-down" },
  { keys: "x", action: "stop" },
  { keys: "t", action: "start" },
  { keys: "K", action: "kill" },
  { keys: "S", action: "seal" },
  { keys: "u", action: "unseal all" },
  { keys: "q", action: "quit" },
];

const SEPARATOR = " · ";
export const HELP = KEYS.map(({ keys, action }) => `${keys} ${action}`).join(SEPARATOR);

/**
 * The help text broken into lines that fit: on a narrow terminal every key
 * stays visible. While an action runs, its name comes first.
 */
export function helpLines(busy: string | undefined, width: number): string[] {
  const items = [
    ...(busy ? [`${busy}…`] : []),
    ...KEYS.map(({ keys, action }) => `${keys} ${action}`),
  ];
  const lines: string[] = [];
  for (const item of items) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + SEPARATOR.length + item.length <= width) {
      lines[lines.length - 1] = last + SEPARATOR + item;
    } else lines.push(clip(item, width));
  }
  return lines;
}

export function HelpLine(props: { readonly busy: string | undefined; readonly width: number }) {
  return (
    <Box flexDirection="column">
      {helpLines(props.busy, props.width).map((line) => (
        <Text key={line} dimColor>
          {line}
        </Text>
      ))}
    </Box>
  );
}
