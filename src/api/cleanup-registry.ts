import { spawnSync } from "node:child_process";

/**
 * Clusters this process started and has not stopped yet. On SIGINT/SIGTERM
 * they are stopped before the signal is re-raised with its default effect;
 * on a plain exit (the event loop may not run any more) a synchronous
 * `docker compose down` removes them.
 */
export interface Disposable {
  readonly project: string;
  /** Asynchronous removal, used on signals. */
  stop(): Promise<void>;
  /** Synchronous fallback for the `exit` event. */
  readonly composeDownArgs: readonly string[];
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
    spawnSync("docker", [...cluster.composeDownArgs], { stdio: "ignore", timeout: 60_000 });
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
