/** Cuts a line to the terminal's width, so ink never wraps a row onto the next. */
export const clip = (text: string, width: number): string =>
  text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text;

/** HH:MM:SS of an ISO time, in UTC like the snapshots' own timestamps. */
export const clockTime = (iso: string): string => iso.slice(11, 19);
