import { styleText } from "node:util";
import {
  type OnProgress,
  type Progress,
  type ProgressEvent,
  progressEvents,
  progressLine,
} from "../core/progress.js";

export type { Progress, StepReporter } from "../core/progress.js";

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/**
 * Draws the library's progress events on a terminal: a live line with the
 * running time on a TTY, plain lines otherwise (logs, CI), colours as
 * NO_COLOR and the stream allow.
 */
export function terminalRenderer(
  stream: NodeJS.WriteStream = process.stderr,
  options: { now?: () => number } = {},
): OnProgress {
  const now = options.now ?? (() => performance.now());
  const live = Boolean(stream.isTTY) && !process.env.CI;
  const paint = (format: Parameters<typeof styleText>[0], text: string) =>
    styleText(format, text, { stream });
  let timer: NodeJS.Timeout | undefined;
  let started = 0;
  let latest = "";
  const stopTimer = () => {
    if (timer) clearInterval(timer);
    timer = undefined;
  };
  return (event: ProgressEvent) => {
    if (!live) {
      if (event.kind === "step-end") {
        const mark = event.ok ? paint("green", "✔") : paint("red", "✖");
        stream.write(`${mark} ${event.label} ${paint("dim", `(${seconds(event.elapsedMs)})`)}\n`);
      } else stream.write(`${progressLine(event)}\n`);
      return;
    }
    switch (event.kind) {
      case "step-start": {
        started = now();
        latest = "";
        const draw = () =>
          stream.write(
            `\r\x1b[2K${paint("cyan", "…")} ${event.label} ${paint("dim", `${seconds(now() - started)}${latest ? ` · ${latest}` : ""}`)}`,
          );
        draw();
        timer = setInterval(draw, 200);
        return;
      }
      case "step-detail":
        latest = `${event.text} at ${seconds(event.elapsedMs)}`;
        return;
      case "step-end": {
        stopTimer();
        const mark = event.ok ? paint("green", "✔") : paint("red", "✖");
        stream.write(
          `\r\x1b[2K${mark} ${event.label} ${paint("dim", `(${seconds(event.elapsedMs)})`)}\n`,
        );
        return;
      }
      case "note":
        stream.write(`${event.text}\n`);
    }
  };
}

/** The CLI's progress: the library's events drawn on the terminal (quiet: none). */
export function createProgress(
  stream: NodeJS.WriteStream = process.stderr,
  options: { quiet?: boolean; now?: () => number } = {},
): Progress {
  if (options.quiet) return progressEvents();
  return progressEvents(terminalRenderer(stream, options), options.now);
}
