import { styleText } from "node:util";

/** Milestones inside one long step (e.g. "DynamoDB healthy" during compose up). */
export interface StepReporter {
  detail(text: string): void;
}

/** Long steps with elapsed time: a live line on a terminal, plain lines otherwise. */
export interface Progress {
  run<T>(label: string, work: (step: StepReporter) => Promise<T>): Promise<T>;
  note(line: string): void;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

export function createProgress(
  stream: NodeJS.WriteStream = process.stderr,
  options: { quiet?: boolean; now?: () => number } = {},
): Progress {
  const now = options.now ?? (() => performance.now());
  const live = Boolean(stream.isTTY) && !process.env.CI;
  const paint = (format: Parameters<typeof styleText>[0], text: string) =>
    styleText(format, text, { stream });
  if (options.quiet) {
    return { run: (_, work) => work({ detail: () => {} }), note: () => {} };
  }
  return {
    async run(label, work) {
      const started = now();
      let timer: NodeJS.Timeout | undefined;
      let latest = "";
      const step: StepReporter = {
        detail(text) {
          latest = `${text} at ${seconds(now() - started)}`;
          if (!live) stream.write(`  · ${latest}\n`);
        },
      };
      if (live) {
        const draw = () =>
          stream.write(
            `\r\x1b[2K${paint("cyan", "…")} ${label} ${paint("dim", `${seconds(now() - started)}${latest ? ` · ${latest}` : ""}`)}`,
          );
        draw();
        timer = setInterval(draw, 200);
      } else {
        stream.write(`… ${label}\n`);
      }
      try {
        const result = await work(step);
        if (timer) clearInterval(timer);
        stream.write(
          `${live ? "\r\x1b[2K" : ""}${paint("green", "✔")} ${label} ${paint("dim", `(${seconds(now() - started)})`)}\n`,
        );
        return result;
      } catch (error) {
        if (timer) clearInterval(timer);
        stream.write(
          `${live ? "\r\x1b[2K" : ""}${paint("red", "✖")} ${label} ${paint("dim", `(${seconds(now() - started)})`)}\n`,
        );
        throw error;
      }
    },
    note(line) {
      stream.write(`${line}\n`);
    },
  };
}
