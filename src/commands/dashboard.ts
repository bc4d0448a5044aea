import type { CommandContext } from "../cli-context.js";
import { UsageError } from "../core/errors.js";
import { FLAG_RULES, parseNumberFlag } from "../core/parse-flag.js";
import { type ClusterCommandOptions, openCluster } from "./cluster-context.js";

export interface DashboardOptions extends ClusterCommandOptions {
  readonly interval?: string;
}

/** Said by `dashboard` (as an error) and by `up --watch` (as a warning) off a terminal. */
export const NOT_A_TERMINAL =
  "the dashboard needs an interactive terminal; for plain output use vault-ha status --watch (or status --watch --json)";

export const isInteractive = (): boolean =>
  Boolean(process.stdout.isTTY) && Boolean(process.stdin.isTTY);

export async function dashboardCommand(context: CommandContext, options: DashboardOptions) {
  const seconds = parseNumberFlag(
    "--interval",
    options.interval ?? "1",
    FLAG_RULES.dashboardInterval,
  );
  if (!isInteractive()) throw new UsageError(NOT_A_TERMINAL);
  const intervalMs = Math.round(seconds * 1000);
  // A node slower than this shows as down rather than holding up the screen.
  const cluster = await openCluster(context, {
    ...options,
    requestTimeoutMs: Math.max(500, Math.min(1_000, intervalMs)),
  });
  await cluster.checkDocker();
  const { runDashboard } = await import("../ui/run-dashboard.js");
  await runDashboard(cluster, intervalMs, context.env);
}
