import type { CommandContext } from "../cli-context.js";
import { CONFIG_KEYS, envNameForKey } from "../core/resolve-config.js";

export interface ConfigOptions {
  readonly json?: boolean;
  readonly keys?: boolean;
}

function flatten(value: unknown, prefix: string, into: Map<string, unknown>): void {
  if (value !== null && typeof value === "object") {
    for (const [key, child] of Object.entries(value)) {
      flatten(child, prefix ? `${prefix}.${key}` : key, into);
    }
  } else {
    into.set(prefix, value);
  }
}

export async function configCommand(context: CommandContext, options: ConfigOptions) {
  if (options.keys) {
    const rows = [...CONFIG_KEYS].map(([key, kind]) => ({
      key,
      type: kind,
      env: envNameForKey(key),
    }));
    if (options.json) context.output.json(rows);
    else
      for (const row of rows)
        context.output.info(`${row.key.padEnd(32)} ${row.type.padEnd(8)} ${row.env}`);
    return;
  }
  const { config, file, sources } = await context.loadConfig();
  if (options.json) {
    context.output.json({ file: file ?? null, config });
    return;
  }
  const values = new Map<string, unknown>();
  flatten(config, "", values);
  for (const [key, value] of values) {
    // The key's own entry only: every layer records each leaf it sets, while a
    // parent's entry ("vault") only says that a layer set *some* key under it.
    const source = sources.get(key) ?? "default";
    context.output.info(`${key.padEnd(32)} ${JSON.stringify(value).padEnd(34)} ${source}`);
  }
}
