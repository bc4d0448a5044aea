import type { z } from "zod";
import { type Config, configSchema } from "./config-schema.js";

/** One place configuration came from, in increasing priority. */
export interface ConfigLayer {
  /** Shown in error lines: a file name, "environment" or "flags". */
  readonly source: string;
  /** Nested values as read (YAML) or already converted from strings. */
  readonly values: Record<string, unknown>;
}

type ScalarKind = "string" | "number" | "boolean";

const defaults = configSchema.parse({});

function collectLeaves(value: unknown, prefix: string, into: Map<string, ScalarKind>): void {
  if (value !== null && typeof value === "object") {
    for (const [key, child] of Object.entries(value)) {
      collectLeaves(child, prefix ? `${prefix}.${key}` : key, into);
    }
    return;
  }
  into.set(prefix, typeof value as ScalarKind);
}

/** Every configuration key, dotted, with the type of its value. */
export const CONFIG_KEYS: ReadonlyMap<string, ScalarKind> = (() => {
  const keys = new Map<string, ScalarKind>();
  collectLeaves(defaults, "", keys);
  // Keys without a default do not appear in the parsed defaults.
  keys.set("storage.endpoint", "string");
  keys.set("storage.dynamodb_max_retries", "number");
  keys.set("storage.session_token", "string");
  keys.set("vault.platform", "string");
  keys.set("dynamodb.platform", "string");
  keys.set("seal.kmsKeyId", "string");
  // A file path from flags and the environment; the object form only in files.
  keys.set("configure", "string");
  return keys;
})();

/** `vault.hostPort` → `VAULT_HA_VAULT_HOST_PORT`. */
export function envNameForKey(key: string): string {
  return `VAULT_HA_${key
    .split(".")
    .map((part) => part.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase())
    .join("_")}`;
}

/** VAULT_HA_* variables that are settings of the tool, not of the cluster. */
export const NON_CONFIG_ENV = new Set([
  "VAULT_HA_CONFIG",
  "VAULT_HA_STATE_DIR",
  "VAULT_HA_BUILD",
  // Where published ports are reached (ports-host.ts).
  "VAULT_HA_HOST",
  "VAULT_HA_TESTBED_CACHE",
  "VAULT_HA_TESTBED_NO_PULL",
  "VAULT_HA_TOOLS",
]);

/**
 * Converts a string from a flag or environment variable to the key's type.
 * A value that does not convert stays a string so validation can quote it.
 */
export function parseScalar(key: string, raw: string): unknown {
  const kind = CONFIG_KEYS.get(key);
  if (kind === "number" && /^-?\d+(\.\d+)?$/.test(raw.trim())) return Number(raw.trim());
  if (kind === "boolean") {
    const lowered = raw.trim().toLowerCase();
    if (lowered === "true" || lowered === "1" || lowered === "yes") return true;
    if (lowered === "false" || lowered === "0" || lowered === "no") return false;
  }
  return raw;
}

/**
 * Keys that reach an object's prototype when assigned (`target.__proto__ = {...}`
 * replaces it; merging into it pollutes Object.prototype for the whole
 * process). No configuration key has these names, so they are never merged,
 * only reported as unknown keys.
 */
const UNSAFE_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

const unknownKeyLine = (source: string, dotted: string) => {
  const hint = closest(dotted, [...CONFIG_KEYS.keys()]);
  return `${source}: ${dotted} is not a configuration key${hint ? `; did you mean ${hint}?` : ""} (see vault-ha config --keys)`;
};

/** Sets a dotted key; callers pass only keys of CONFIG_KEYS, which never hold an unsafe part. */
function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split(".");
  if (parts.some((part) => UNSAFE_KEYS.has(part)))
    throw new Error(`unsafe configuration key ${key}`);
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = Object.hasOwn(node, part) ? node[part] : undefined;
    if (next === null || typeof next !== "object" || Array.isArray(next)) node[part] = {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1] as string] = value;
}

/** Builds a layer from `VAULT_HA_*` environment variables. */
export function layerFromEnv(env: Readonly<Record<string, string | undefined>>): {
  layer: ConfigLayer;
  errors: string[];
} {
  const byEnvName = new Map([...CONFIG_KEYS.keys()].map((key) => [envNameForKey(key), key]));
  const values: Record<string, unknown> = {};
  const errors: string[] = [];
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith("VAULT_HA_") || raw === undefined || NON_CONFIG_ENV.has(name)) continue;
    const key = byEnvName.get(name);
    if (key === undefined) {
      const hint = closest(name, [...byEnvName.keys()]);
      errors.push(
        `environment: ${name} is not a vault-ha setting${hint ? `; did you mean ${hint}?` : ""} (unset it, or see vault-ha config --keys)`,
      );
      continue;
    }
    setPath(values, key, parseScalar(key, raw));
  }
  return { layer: { source: "environment", values }, errors };
}

/** Builds a layer from `key=value` pairs (the `--set` flag and named flags). */
export function layerFromAssignments(
  source: string,
  assignments: readonly (readonly [string, string])[],
): { layer: ConfigLayer; errors: string[] } {
  const values: Record<string, unknown> = {};
  const errors: string[] = [];
  for (const [key, raw] of assignments) {
    if (!CONFIG_KEYS.has(key)) {
      errors.push(unknownKeyLine(source, key));
      continue;
    }
    setPath(values, key, parseScalar(key, raw));
  }
  return { layer: { source, values }, errors };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function mergeInto(
  target: Record<string, unknown>,
  sources: Map<string, string>,
  values: Record<string, unknown>,
  source: string,
  prefix: string,
  unsafe: string[],
): void {
  // Object.entries lists an own "__proto__" key, which YAML and JSON parsers create.
  for (const [key, value] of Object.entries(values)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (UNSAFE_KEYS.has(key)) {
      unsafe.push(unknownKeyLine(source, path));
    } else if (isPlainObject(value)) {
      const existing = Object.hasOwn(target, key) ? target[key] : undefined;
      const child = isPlainObject(existing) ? existing : {};
      target[key] = child;
      sources.set(path, source);
      mergeInto(child, sources, value, source, path, unsafe);
    } else {
      target[key] = value;
      sources.set(path, source);
    }
  }
}

function describeValue(value: unknown): string {
  if (value === undefined) return "(missing)";
  if (typeof value === "string") return JSON.stringify(value);
  if (isPlainObject(value) || Array.isArray(value)) return JSON.stringify(value);
  return String(value);
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const part of path) {
    if (!isPlainObject(node) && !Array.isArray(node)) return undefined;
    node = (node as Record<PropertyKey, unknown>)[part];
  }
  return node;
}

function allowedFor(path: readonly PropertyKey[]): string | undefined {
  // Walk the schema's metadata through the registry zod keeps for .meta().
  const key = path.join(".");
  return ALLOWED.get(key);
}

const ALLOWED: ReadonlyMap<string, string> = (() => {
  const found = new Map<string, string>();
  const visit = (schema: z.core.$ZodType, prefix: string) => {
    let current: z.core.$ZodType = schema;
    // Unwrap defaults, prefaults and optionals down to the object or leaf.
    for (;;) {
      const meta = z_meta(current);
      if (meta?.allowed && prefix) found.set(prefix, String(meta.allowed));
      const def = current._zod.def as { innerType?: z.core.$ZodType; type: string };
      if (def.innerType) {
        current = def.innerType;
        continue;
      }
      break;
    }
    const def = current._zod.def as { type: string; shape?: Record<string, z.core.$ZodType> };
    if (def.type === "object" && def.shape) {
      for (const [key, child] of Object.entries(def.shape)) {
        visit(child, prefix ? `${prefix}.${key}` : key);
      }
    }
  };
  visit(configSchema, "");
  return found;
})();

function z_meta(schema: z.core.$ZodType): Record<string, unknown> | undefined {
  const meta = (schema as { meta?: () => unknown }).meta;
  return typeof meta === "function"
    ? (meta.call(schema) as Record<string, unknown> | undefined)
    : undefined;
}

/** Levenshtein-nearest candidate within a small distance, for "did you mean". */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

export type ResolvedConfig =
  | { readonly ok: true; readonly config: Config; readonly sources: ReadonlyMap<string, string> }
  | { readonly ok: false; readonly errors: readonly string[] };

/**
 * Merges layers (later wins), validates once, and turns every problem into
 * one line naming the source, the key, the value and what is allowed.
 */
export function resolveConfig(layers: readonly ConfigLayer[]): ResolvedConfig {
  const merged: Record<string, unknown> = {};
  const sources = new Map<string, string>();
  const unsafe: string[] = [];
  for (const layer of layers) mergeInto(merged, sources, layer.values, layer.source, "", unsafe);

  const result = configSchema.safeParse(merged);
  if (result.success && unsafe.length === 0) return { ok: true, config: result.data, sources };
  if (result.success) return { ok: false, errors: [...new Set(unsafe)] };

  const errors = result.error.issues.flatMap((issue) => {
    const sourceOf = (path: readonly PropertyKey[]) => {
      for (let length = path.length; length > 0; length--) {
        const found = sources.get(path.slice(0, length).join("."));
        if (found) return found;
      }
      return "defaults";
    };
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => {
        const path = [...issue.path, key];
        return unknownKeyLine(sourceOf(path), path.join("."));
      });
    }
    const dotted = issue.path.join(".");
    // zod leaves `input` out of issues unless asked to report it; a key no
    // layer set has its default, which is what the line must show.
    const given = valueAt(merged, issue.path);
    const value =
      "input" in issue && issue.input !== undefined
        ? issue.input
        : given === undefined
          ? valueAt(defaults, issue.path)
          : given;
    const allowed =
      issue.code === "custom" ? issue.message : (allowedFor(issue.path) ?? issue.message);
    return [
      `${sourceOf(issue.path)}: ${dotted}: ${describeValue(value)} is not allowed; use ${allowed}`,
    ];
  });
  return { ok: false, errors: [...new Set([...unsafe, ...errors])] };
}
