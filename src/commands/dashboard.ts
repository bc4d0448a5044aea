import type { CommandContext } from "../cli-context.js";
import { UsageError } from "../core/errors.js";
import { type ClusterCommandOptions, openCluster } from "./cluster-context.js";

export interface DashboardOptions extends ClusterCommandOptions {
  readonly interval?: string;
}

export function requireTerminal(): void {
  if (!process.stdout.isTTY || !process.stdin.isTTY) {
    throw new UsageError(
      "the dashboard needs an interactive terminal; for plain output use vault-ha status --watch (or --json)",
    );
  }
}

export async function dashboardCommand(context: CommandContext, options: DashboardOptions) {
  requireTerminal();
  const seconds = Number(options.interval ?? "1");
  if (!Number.isFinite(seconds) || seconds < 0.2) {
    throw new UsageError(
      `--interval ${options.interval} is not allowed; use a number of seconds of at least 0.2`,
    );
  }
  const cluster = await openCluster(context, {
    ...options,
    requestTimeoutMs: Math.min(1_000, seconds * 1000),
  });
  await cluster.checkDocker();
  await runDashboard(cluster, seconds * 1000, context.env);
}

/** Shared by `dashboard` and `up --watch`. Returns when the user quits. */
export async function runDashboard(
  cluster: import("../services/cluster.js").ClusterService,
  intervalMs: number,
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const [{ render }, { createElement }, { StatusPoller }, { DashboardApp }] = await Promise.all([
    import("ink"),
    import("react"),
    import("../state/status-poller.js"),
    import("../ui/DashboardApp.js"),
  ]);
  const poller = new StatusPoller({ snapshot: () => cluster.snapshot(), intervalMs });
  const color = !("NO_COLOR" in env) && process.stdout.hasColors?.() === true;
  const actions = {
    async stepDown() {
      const result = await cluster.stepDown();
      return `step-down: ${result.from} → ${result.to} in ${(result.elapsedMs / 1000).toFixed(1)} s`;
    },
    async container(node: string, action: "stop" | "start" | "kill") {
      await cluster.nodeContainer(node, action);
      return `${action === "stop" ? "stopped" : action === "start" ? "started" : "killed"} ${node}'s container`;
    },
    async seal(node: string) {
      const [done] = await cluster.seal([node]);
      return done
        ? `sealed ${node}${done.how === "restart" ? " (restarted: a standby cannot be sealed through the API)" : ""}`
        : `${node} was not unsealed`;
    },
    async unsealAll() {
      const unsealed = await cluster.unseal(undefined);
      return unsealed.length > 0 ? `unsealed ${unsealed.join(", ")}` : "no sealed node to unseal";
    },
  };
  poller.start();
  // The terminal check above is ours; ink would otherwise treat CI=true as
  // "not interactive" and draw nothing until exit. The alternate screen gives
  // the terminal back as it was on q or Ctrl-C.
  const app = render(createElement(DashboardApp, { poller, actions, color }), {
    exitOnCtrlC: true,
    interactive: true,
    alternateScreen: true,
  });
  try {
    await app.waitUntilExit();
  } finally {
    poller.stop();
  }
}
