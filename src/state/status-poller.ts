import { EventEmitter } from "node:events";
import { type ClusterStatus, lockSecondsLeft } from "../core/cluster-status.js";
import {
  deriveEvents,
  type EventState,
  type HaEvent,
  initialEventState,
} from "../core/ha-events.js";

/** What the dashboard shows: plain data, replaced (never mutated) on change. */
export interface DashboardState {
  readonly status: ClusterStatus | undefined;
  /** Newest last, bounded. */
  readonly events: readonly HaEvent[];
  /** Set when the last poll failed or timed out. */
  readonly pollError: string | undefined;
  readonly intervalMs: number;
  /** The action running now; one at a time. */
  readonly busy: string | undefined;
}

export interface StatusPollerOptions {
  readonly snapshot: () => Promise<ClusterStatus>;
  readonly intervalMs: number;
  /** Budget of one whole poll; a slow poll is abandoned, never awaited past it. */
  readonly timeoutMs?: number;
  readonly maxEvents?: number;
  readonly now?: () => Date;
}

export const DEFAULT_INTERVAL_MS = 1_000;

/**
 * Polls cluster status outside React. One poll at a time (a slow node delays
 * the next poll, never stacks them), every poll bounded by a timeout, and a
 * "change" event only when what the screen shows changed. Actions run here
 * too, so their outcome lands in the same event log as what they caused.
 */
export class StatusPoller extends EventEmitter<{ change: [DashboardState] }> {
  private current: DashboardState;
  private events: EventState = initialEventState;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private inFlight: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private readonly now: () => Date;
  private sequence = 0;

  constructor(private readonly options: StatusPollerOptions) {
    super();
    this.now = options.now ?? (() => new Date());
    this.current = {
      status: undefined,
      events: [],
      pollError: undefined,
      intervalMs: options.intervalMs,
      busy: undefined,
    };
  }

  get state(): DashboardState {
    return this.current;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.tick();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Adds an event that did not come from a snapshot (an action's outcome). */
  log(kind: HaEvent["kind"], message: string, node?: string): void {
    this.publish({
      ...this.current,
      events: this.bounded([
        ...this.current.events,
        { at: this.now().toISOString(), kind, message, ...(node ? { node } : {}) },
      ]),
    });
  }

  /**
   * Polls now, or right after the poll in flight when there is one: polls
   * never overlap, so snapshots reach the event derivation in the order they
   * were taken.
   */
  pollOnce(): Promise<void> {
    if (!this.inFlight) {
      this.inFlight = this.poll().finally(() => {
        this.inFlight = undefined;
      });
      return this.inFlight;
    }
    // Whoever asks while a poll runs wants a snapshot taken after asking.
    this.queued ??= this.inFlight.then(() => {
      this.queued = undefined;
      return this.pollOnce();
    });
    return this.queued;
  }

  /**
   * Runs one action (a key press): refused while another runs, its outcome
   * logged as an event, then a fresh poll so the screen shows its effect.
   */
  async act(label: string, node: string | undefined, work: () => Promise<string>): Promise<void> {
    if (this.current.busy) {
      this.log("action-failed", `${label}: not started, ${this.current.busy} is still running`);
      return;
    }
    this.publish({ ...this.current, busy: label });
    try {
      this.log("action", await work(), node);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.log("action-failed", `${label} failed: ${message.split("\n")[0]}`, node);
    } finally {
      this.publish({ ...this.current, busy: undefined });
    }
    if (this.running) await this.pollOnce();
  }

  private async poll(): Promise<void> {
    const timeoutMs = this.options.timeoutMs ?? Math.max(3_000, this.options.intervalMs * 3);
    let timer: NodeJS.Timeout | undefined;
    try {
      const status = await Promise.race([
        this.options.snapshot(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no status within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
      const derived = deriveEvents(this.events, status);
      this.events = derived.state;
      this.publish({
        ...this.current,
        status,
        pollError: undefined,
        events:
          derived.events.length > 0
            ? this.bounded([...this.current.events, ...derived.events])
            : this.current.events,
      });
    } catch (error) {
      this.publish({ ...this.current, pollError: (error as Error).message });
    } finally {
      clearTimeout(timer);
    }
  }

  private async tick(): Promise<void> {
    if (!this.running) return;
    const started = performance.now();
    await this.pollOnce();
    if (!this.running) return;
    const wait = Math.max(0, this.options.intervalMs - (performance.now() - started));
    this.timer = setTimeout(() => void this.tick(), wait);
  }

  private bounded(events: HaEvent[]): HaEvent[] {
    for (const [index, event] of events.entries()) {
      if (event.id === undefined) events[index] = { ...event, id: ++this.sequence };
    }
    const max = this.options.maxEvents ?? 200;
    return events.length > max ? events.slice(events.length - max) : events;
  }

  private publish(next: DashboardState): void {
    if (comparable(next) === comparable(this.current)) return;
    this.current = next;
    this.emit("change", next);
  }
}

// The snapshot's own timestamp changes every poll; what is on screen (the
// lock's remaining seconds, counted from it) changes less often.
function comparable(state: DashboardState): string {
  return JSON.stringify({
    ...state,
    status: state.status && {
      ...state.status,
      takenAt: undefined,
      lockSecondsLeft: lockSecondsLeft(state.status),
    },
  });
}
