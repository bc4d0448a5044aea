import path from "node:path";
import type { CommandContext } from "../cli-context.js";
import type { ClusterStatus } from "../core/cluster-status.js";
import { UsageError } from "../core/errors.js";
import { nodeRows } from "../core/node-rows.js";
import { type ClusterCommandOptions, openCluster } from "./cluster-context.js";

export interface UpOptions extends ClusterCommandOptions {
  readonly showSecrets?: boolean;
  readonly watch?: boolean;
}

export function nodeTable(status: ClusterStatus): string[] {
  return nodeRows(status).map(
    (row) =>
      `  ${row.name.padEnd(8)} ${row.url.padEnd(24)} ${row.mode}${row.active ? "  ◀ active" : ""}`,
  );
}

export async function upCommand(context: CommandContext, options: UpOptions) {
  if (options.watch && options.json) {
    throw new UsageError(
      "--watch and --json do not go together; use vault-ha status --watch --json for a JSON stream",
    );
  }
  const cluster = await openCluster(context, options);
  // Checked before anything starts: a bad file costs nothing.
  const { declaredConfiguration, applyDeclared, changeLines } = await import("./configure.js");
  const declared = await declaredConfiguration(context, cluster);
  const result = await cluster.up();
  const configured = declared ? await applyDeclared(cluster, declared) : undefined;
  const { status } = result;
  const active = status.nodes.find((node) => node.name === status.active);
  const keys = options.showSecrets ? await cluster.requireKeys() : undefined;
  if (options.json) {
    context.output.json({
      project: status.project,
      changed: result.changed,
      initialized: result.initialized,
      unsealed: result.unsealed,
      nodes: status.nodes.map(({ name, url, mode }) => ({ name, url, mode })),
      activeUrl: active?.url,
      dynamodbEndpoint: status.dynamodb.endpoint,
      composeFile: result.composeFile,
      keysFile: result.keysFile,
      ...(configured ? { configured } : {}),
      ...(keys ? { rootToken: keys.rootToken, unsealKeys: keys.keys } : {}),
    });
    return;
  }
  const { output } = context;
  output.info(
    result.changed
      ? `cluster ${status.project} is up: ${status.nodes.length} node${status.nodes.length === 1 ? "" : "s"}, ${status.active} active${result.initialized ? " (newly initialised)" : ""}${result.unsealed.length > 0 ? `, unsealed ${result.unsealed.join(", ")}` : ""}`
      : `cluster ${status.project} is already up and unsealed; nothing to do`,
  );
  for (const line of nodeTable(status)) output.info(line);
  if (configured) for (const line of changeLines(configured, false)) output.info(line);
  output.info(`  dynamodb ${status.dynamodb.endpoint ?? "-"}  (table ${status.dynamodb.table})`);
  output.info(`  keys and root token: ${result.keysFile} (owner-only)`);
  if (keys) {
    output.info(`  root token: ${keys.rootToken}`);
    for (const [index, key] of keys.keys.entries())
      output.info(`  unseal key ${index + 1}: ${key}`);
  }
  if (options.reuse) {
    output.hint(
      `reusable: the next up --reuse with the same settings gets this cluster again; remove it with vault-ha prune --yes --reuse`,
    );
  } else if (
    status.project.startsWith("vha-") &&
    cluster.config.dynamodb.inMemory &&
    cluster.config.vault.hostPort === 0
  ) {
    output.hint(`ephemeral: remove it with vault-ha reset --yes --project ${status.project}`);
  }
  output.hint(
    `use it: eval "$(vault-ha env)"   ·   status: vault-ha status   ·   compose file: ${path.relative(context.cwd, result.composeFile)}`,
  );
  if (options.watch) {
    // The cluster is up either way; only the view is not possible here.
    const { isInteractive, NOT_A_TERMINAL } = await import("./dashboard.js");
    if (!isInteractive()) {
      output.warn(`--watch: ${NOT_A_TERMINAL}`);
      return;
    }
    const [{ runDashboard }, { DEFAULT_INTERVAL_MS }] = await Promise.all([
      import("../ui/run-dashboard.js"),
      import("../state/status-poller.js"),
    ]);
    await runDashboard(cluster, DEFAULT_INTERVAL_MS, context.env);
  }
}
