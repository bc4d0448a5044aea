import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Config } from "../core/config-schema.js";
import { UsageError } from "../core/errors.js";
import {
  type ConfigLayer,
  layerFromAssignments,
  layerFromEnv,
  resolveConfig,
} from "../core/resolve-config.js";

export const DEFAULT_CONFIG_FILE = "vault-ha.config.yaml";

export interface ConfigSources {
  /** Working directory the default config file is looked up in. */
  readonly cwd: string;
  /** --config; falls back to VAULT_HA_CONFIG, then ./vault-ha.config.yaml if present. */
  readonly configFile?: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Flag values as `key=value` pairs, in command-line order. */
  readonly flags: readonly (readonly [string, string])[];
  /** Values a caller passes as data (the programmatic API); between env and flags. */
  readonly values?: Record<string, unknown>;
}

export interface LoadedConfig {
  readonly config: Config;
  /** The file that was read, if any. */
  readonly file: string | undefined;
  /** Which source set each key (for `vault-ha config`). */
  readonly sources: ReadonlyMap<string, string>;
}

async function readConfigFile(file: string): Promise<ConfigLayer> {
  const display = path.relative(process.cwd(), file) || file;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `${display}: cannot read the configuration file (${code ?? String(error)}); check the path given to --config or VAULT_HA_CONFIG`,
    );
  }
  // Imported here, not at the top: most runs read no file, and yaml costs
  // about 30 ms to load.
  const { parseDocument } = await import("yaml");
  const document = parseDocument(text);
  if (document.errors.length > 0) {
    const lines = document.errors.map((error) => {
      const position = error.linePos?.[0];
      const message = (error.message.split("\n")[0] ?? "").replace(
        / at line \d+, column \d+:?$/,
        "",
      );
      return `${display}${position ? `:${position.line}:${position.col}` : ""}: not valid YAML: ${message}`;
    });
    throw new UsageError(
      lines.length === 1
        ? (lines[0] as string)
        : `${display} is not valid YAML; fix the lines below`,
      lines.length === 1 ? [] : lines,
    );
  }
  const values = document.toJS() ?? {};
  if (values === null || typeof values !== "object" || Array.isArray(values)) {
    throw new UsageError(
      `${display}: the file must hold a mapping of settings (key: value), not ${Array.isArray(values) ? "a list" : JSON.stringify(values)}`,
    );
  }
  return { source: display, values };
}

/** Loads defaults < file < VAULT_HA_* environment < API values < flags, and validates once. */
export async function loadConfig(sources: ConfigSources): Promise<LoadedConfig> {
  const explicit = sources.configFile ?? sources.env.VAULT_HA_CONFIG;
  const candidate = explicit
    ? path.resolve(sources.cwd, explicit)
    : path.join(sources.cwd, DEFAULT_CONFIG_FILE);
  const file = explicit || existsSync(candidate) ? candidate : undefined;

  const layers: ConfigLayer[] = [];
  const problems: string[] = [];
  if (file) layers.push(await readConfigFile(file));
  const fromEnv = layerFromEnv(sources.env);
  layers.push(fromEnv.layer);
  problems.push(...fromEnv.errors);
  if (sources.values) layers.push({ source: "options", values: sources.values });
  const fromFlags = layerFromAssignments("flags", sources.flags);
  layers.push(fromFlags.layer);
  problems.push(...fromFlags.errors);

  const resolved = resolveConfig(layers);
  if (!resolved.ok) problems.push(...resolved.errors);
  if (problems.length > 0 || !resolved.ok) {
    throw new UsageError(
      problems.length === 1
        ? (problems[0] as string)
        : `the configuration has ${problems.length} problems:`,
      problems.length === 1 ? [] : problems,
    );
  }
  return { config: resolved.config, file, sources: resolved.sources };
}
