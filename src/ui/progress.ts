import { styleText } from "node:util";

/** Long steps with elapsed time: a live line on a terminal, plain lines otherwise. */
export interface Progress {
  run<T>(label: string, work: () => Promise<T>): Promise<T>;
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
    return { run: (_, work) => work(), note: () => {} };
  }
  return {
    async run(label, work) {
      const started = now();
      let timer: NodeJS.Timeout | undefined;
      if (live) {
        const draw = () =>
          stream.write(
            `\r\x1b[2K${paint("cyan", "…")} ${label} ${paint("dim", seconds(now() - started))}`,
          );
        draw();
        timer = setInterval(draw, 200);
      } else {
        stream.write(`… ${label}\n`);
      }
      try {
        const result = await work();
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
