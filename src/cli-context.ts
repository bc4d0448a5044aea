import { styleText } from "node:util";
import type { LoadedConfig } from "./config/load-config.js";

/** Where a command writes: results to stdout, progress and hints to stderr. */
export interface Output {
  info(line: string): void;
  /** A dimmed next-step line on stderr. */
  hint(line: string): void;
  warn(line: string): void;
  /** A line on stderr exactly as given: no colour, no prefix (a CI runner's workflow command). */
  stderrLine(line: string): void;
  json(value: unknown): void;
  /** True when stderr is a terminal (progress may redraw). */
  readonly interactive: boolean;
}

export interface CommandContext {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly output: Output;
  /** Loads and validates configuration from file, environment and this command's flags. */
  loadConfig(): Promise<LoadedConfig>;
}

type Stream = NodeJS.WriteStream;

/** styleText honours NO_COLOR, FORCE_COLOR and non-TTY streams itself. */
const paint = (format: Parameters<typeof styleText>[0], text: string, stream: Stream) =>
  styleText(format, text, { stream });

export function consoleOutput(
  stdout: Stream = process.stdout,
  stderr: Stream = process.stderr,
): Output {
  return {
    info: (line) => stdout.write(`${line}\n`),
    hint: (line) => stderr.write(`${paint("dim", line, stderr)}\n`),
    warn: (line) => stderr.write(`${paint("yellow", `warning: ${line}`, stderr)}\n`),
    stderrLine: (line) => stderr.write(`${line}\n`),
    json: (value) => stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    interactive: Boolean(stderr.isTTY),
  };
}

export function formatError(message: string, details: readonly string[], stream: Stream): string {
  const head = paint("red", `error: ${message}`, stream);
  // A detail may be a whole command's output: indent every line of it.
  const lines = details.flatMap((detail) => detail.split("\n"));
  return [head, ...lines.map((line) => `  ${line}`)].join("\n");
}
