/**
 * Progress as data. The library (cluster services, startCluster) reports
 * long steps as events and draws nothing; the CLI renders them on the
 * terminal (src/ui/progress.ts), a harness user may pass `onProgress`, and
 * by default nothing is written anywhere.
 */
export type ProgressEvent =
  | { readonly kind: "step-start"; readonly label: string }
  /** A milestone inside a running step, e.g. "DynamoDB healthy". */
  | {
      readonly kind: "step-detail";
      readonly label: string;
      readonly text: string;
      readonly elapsedMs: number;
    }
  | {
      readonly kind: "step-end";
      readonly label: string;
      readonly ok: boolean;
      readonly elapsedMs: number;
    }
  | { readonly kind: "note"; readonly text: string };

export type OnProgress = (event: ProgressEvent) => void;

/** Milestones inside one long step. */
export interface StepReporter {
  detail(text: string): void;
}

/** What the services call: named steps with their elapsed time, and notes. */
export interface Progress {
  run<T>(label: string, work: (step: StepReporter) => Promise<T>): Promise<T>;
  note(line: string): void;
}

/** Turns steps into events for `onProgress`; without a listener, silent. */
export function progressEvents(
  onProgress: OnProgress = () => {},
  now: () => number = () => performance.now(),
): Progress {
  return {
    async run(label, work) {
      const started = now();
      onProgress({ kind: "step-start", label });
      const step: StepReporter = {
        detail: (text) =>
          onProgress({ kind: "step-detail", label, text, elapsedMs: now() - started }),
      };
      try {
        const result = await work(step);
        onProgress({ kind: "step-end", label, ok: true, elapsedMs: now() - started });
        return result;
      } catch (error) {
        onProgress({ kind: "step-end", label, ok: false, elapsedMs: now() - started });
        throw error;
      }
    },
    note: (text) => onProgress({ kind: "note", text }),
  };
}

export const SILENT: Progress = progressEvents();

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/**
 * Plain text lines for an event, the way a log or CI shows them ("… label",
 * "  · detail at 1.2s", "✔ label (3.4s)"); undefined for none. Shared by the
 * terminal renderer off a TTY and by startCluster's `verbose`.
 */
export function progressLine(event: ProgressEvent): string | undefined {
  switch (event.kind) {
    case "step-start":
      return `… ${event.label}`;
    case "step-detail":
      return `  · ${event.text} at ${seconds(event.elapsedMs)}`;
    case "step-end":
      return `${event.ok ? "✔" : "✖"} ${event.label} (${seconds(event.elapsedMs)})`;
    case "note":
      return event.text;
  }
}
