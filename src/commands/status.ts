import type { CommandContext } from "../cli-context.js";
import type { ClusterStatus } from "../core/cluster-status.js";
import { ClusterNotHealthyError } from "../core/errors.js";
import { haAlarms } from "../core/ha-alarms.js";
import { nodeRows } from "../core/node-rows.js";
import { FLAG_RULES, parseNumberFlag } from "../core/parse-flag.js";
import { sleep } from "../services/wait.js";
import { type ClusterCommandOptions, openCluster } from "./cluster-context.js";

export interface StatusOptions extends ClusterCommandOptions {
  readonly watch?: boolean;
  readonly interval?: string;
}

export function formatStatus(status: ClusterStatus): string[] {
  const lines = [
    `project ${status.project}: ${status.summary}${status.active ? ` (${status.active} active)` : ""}`,
  ];
  lines.push(
    `  ${"NODE".padEnd(8)} ${"URL".padEnd(24)} ${"CONTAINER".padEnd(10)} ${"MODE".padEnd(14)} ${"VERSION".padEnd(8)} LATENCY`,
  );
  for (const row of nodeRows(status)) {
    lines.push(
      `  ${row.name.padEnd(8)} ${row.url.padEnd(24)} ${row.container.padEnd(10)} ${row.mode.padEnd(14)} ${row.version.padEnd(8)} ${row.latency}${row.error ? `  ${row.error}` : ""}`,
    );
  }
  const { dynamodb } = status;
  lines.push(
    `  dynamodb ${(dynamodb.endpoint ?? "-").padEnd(24)} ${dynamodb.container.padEnd(10)} ${dynamodb.healthy ? "healthy" : "not healthy"}, table ${dynamodb.table} ${dynamodb.tableStatus ?? "-"}, ${dynamodb.itemCount ?? "?"} items${dynamodb.lock ? `, HA lock expires ${dynamodb.lock.expiresAt}` : ""}`,
  );
  const balancer = status.loadBalancer;
  if (balancer) {
    lines.push(
      `  ${"balancer".padEnd(8)} ${(balancer.url ?? "-").padEnd(24)} ${balancer.container.padEnd(10)} ${balancer.reachesActive ? "reaches the active node" : "reaches no active node"}`,
    );
  }
  for (const alarm of haAlarms(status)) lines.push(`  ALARM ${alarm.message}`);
  return lines;
}

export async function statusCommand(context: CommandContext, options: StatusOptions) {
  const intervalMs =
    parseNumberFlag("--interval", options.interval ?? "1", FLAG_RULES.statusInterval) * 1000;
  const cluster = await openCluster(context, options);
  await cluster.checkDocker();
  let previous = "";
  for (;;) {
    const status = await cluster.snapshot();
    if (options.json) {
      const text = JSON.stringify(status);
      // Watching: one JSON document per line, printed when something changed.
      if (!options.watch) context.output.json(status);
      else {
        const comparable = JSON.stringify({
          ...status,
          takenAt: undefined,
          nodes: status.nodes.map((node) => ({ ...node, latencyMs: undefined })),
        });
        if (comparable !== previous) context.output.info(text);
        previous = comparable;
      }
    } else {
      const lines = formatStatus(status);
      if (options.watch && context.output.interactive) process.stdout.write("\x1b[2J\x1b[H");
      const comparable = lines.join("\n").replace(/\d+ ms/g, "");
      if (!options.watch || context.output.interactive || comparable !== previous) {
        for (const line of lines) context.output.info(line);
        if (options.watch && !context.output.interactive) context.output.info("");
      }
      previous = comparable;
    }
    if (!options.watch) {
      if (status.summary !== "healthy") {
        throw new ClusterNotHealthyError(
          `cluster ${status.project} is ${status.summary}; run vault-ha up to start or heal it`,
        );
      }
      return;
    }
    await sleep(intervalMs);
  }
}
