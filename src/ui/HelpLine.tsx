import { Box, Text } from "ink";
import { clip } from "./clip.js";
import { KEY_MAP } from "./key-map.js";

const SEPARATOR = " · ";
const ITEMS = KEY_MAP.map(({ keys, label }) => `${keys} ${label}`);
export const HELP = ITEMS.join(SEPARATOR);

/**
 * The help text broken into lines that fit: on a narrow terminal every key
 * stays visible. While an action runs, its name comes first.
 */
export function helpLines(busy: string | undefined, width: number): string[] {
  const items = [...(busy ? [`${busy}…`] : []), ...ITEMS];
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
