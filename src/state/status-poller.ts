import { EventEmitter } from "node:events";
import type { ClusterStatus } from "../core/cluster-status.js";
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
}

export interface StatusPollerOptions {
  readonly snapshot: () => Promise<ClusterStatus>;
  readonly intervalMs: number;
  /** Budget of one whole poll; a slow poll is abandoned, never awaited past it. */
  readonly timeoutMs?: number;
  readonly maxEvents?: number;
  readonly now?: () => Date;
}

/**
 * Polls cluster status outside React. One poll at a time (a slow node delays
 * the next poll, never stacks them), every poll bounded by a timeout, and a
 * "change" event only when what the screen shows changed.
 */
export class StatusPoller extends EventEmitter<{ change: [DashboardState] }> {
  private current: DashboardState;
  private events: EventState = initialEventState;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
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
        { at: this.now().toISOString(), kind, message, node },
      ]),
    });
  }

  /** Runs one poll now (tests, and right after an action). */
  async pollOnce(): Promise<void> {
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

// The snapshot's own timestamp changes every poll; what is on screen does not.
function comparable(state: DashboardState): string {
  return JSON.stringify({
    ...state,
    status: state.status && { ...state.status, takenAt: undefined },
  });
}
