/**
 * Clusters this process started and has not stopped yet. On SIGINT/SIGTERM
 * they are stopped before the signal is re-raised with its default effect;
 * on a plain exit (the event loop may not run any more) they are removed
 * synchronously by `stopSync` (what this handle created, nothing else).
 */
export interface Disposable {
  readonly project: string;
  /** Asynchronous removal, used on signals. */
  stop(): Promise<void>;
  /** Synchronous removal for the `exit` event. */
  stopSync(): void;
}

const live = new Set<Disposable>();
let installed = false;

async function onSignal(signal: NodeJS.Signals): Promise<void> {
  await Promise.allSettled([...live].map((cluster) => cluster.stop()));
  uninstall();
  // Nobody else listens any more: the default action ends the process.
  process.kill(process.pid, signal);
}

function onExit(): void {
  for (const cluster of live) {
    try {
      cluster.stopSync();
    } catch {
      // One cluster that cannot be removed must not keep the others.
    }
  }
  live.clear();
}

const handlers = {
  SIGINT: () => void onSignal("SIGINT"),
  SIGTERM: () => void onSignal("SIGTERM"),
};

function install(): void {
  if (installed) return;
  installed = true;
  process.once("SIGINT", handlers.SIGINT);
  process.once("SIGTERM", handlers.SIGTERM);
  process.on("exit", onExit);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  process.off("SIGINT", handlers.SIGINT);
  process.off("SIGTERM", handlers.SIGTERM);
  process.off("exit", onExit);
}

export function register(cluster: Disposable): void {
  live.add(cluster);
  install();
}

export function unregister(cluster: Disposable): void {
  live.delete(cluster);
  if (live.size === 0) uninstall();
}
