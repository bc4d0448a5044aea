import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { UsageError } from "./errors.js";

/**
 * The subset of bank-vaults' external configuration (`vault-config.yml`)
 * that maps to plain Vault API writes, with bank-vaults' key names, so a
 * user's existing file works unchanged for it. Decoding is strict, as
 * bank-vaults' is (an unknown key is an error, because a typo next to
 * `purgeUnmanagedConfig` could delete what the user meant to keep), and the
 * keys bank-vaults has that vault-ha does not apply yet are refused by name.
 */

// Free-form maps (role bodies, mount config) go to Vault as they are.
const freeMap = z.record(z.string(), z.unknown());

const named = freeMap.and(z.object({ name: z.string().min(1) }));

const policy = z.strictObject({ name: z.string().min(1), rules: z.string() });

const AUTH_TYPES = ["approle", "userpass", "jwt", "oidc", "kubernetes", "token"] as const;

const auth = z.strictObject({
  type: z.string().min(1),
  path: z.string().optional(),
  description: z.string().optional(),
  options: freeMap.optional(),
  config: freeMap.optional(),
  roles: z.array(named).optional(),
  users: z.array(freeMap.and(z.object({ username: z.string().min(1) }))).optional(),
  // bank-vaults has these for github, ldap, okta and aws; refused below by name.
  groups: z.unknown().optional(),
  map: z.unknown().optional(),
  crossaccountrole: z.unknown().optional(),
});

const secretsEngine = z.strictObject({
  type: z.string().min(1),
  path: z.string().optional(),
  description: z.string().optional(),
  options: freeMap.optional(),
  config: freeMap.optional(),
  configuration: z.record(z.string(), z.array(freeMap)).optional(),
  local: z.boolean().optional(),
  seal_wrap: z.boolean().optional(),
  max_versions: z.number().int().optional(),
  plugin_name: z.unknown().optional(),
});

const audit = z.strictObject({
  type: z.string().min(1),
  path: z.string().optional(),
  description: z.string().optional(),
  options: freeMap.optional(),
});

const group = z.strictObject({
  name: z.string().min(1),
  type: z.enum(["internal", "external"]).optional(),
  policies: z.array(z.string()).optional(),
  metadata: z.record(z.string(), z.string()).optional(),
});

const groupAlias = z.strictObject({
  name: z.string().min(1),
  mountpath: z.string().min(1),
  group: z.string().min(1),
});

const startupSecret = z.strictObject({
  type: z.string().min(1),
  path: z.string().min(1),
  max_versions: z.number().int().optional(),
  data: z.strictObject({
    data: freeMap.optional(),
    options: freeMap.optional(),
    secretKeyRef: z.unknown().optional(),
  }),
});

const PURGE_SECTIONS = [
  "audit",
  "auth",
  "groups",
  "group-aliases",
  "plugins",
  "policies",
  "secrets",
] as const;

const purge = z.strictObject({
  enabled: z.boolean().optional(),
  exclude: z.partialRecord(z.enum(PURGE_SECTIONS), z.boolean()).optional(),
});

const externalConfigSchema = z.strictObject({
  purgeUnmanagedConfig: purge.optional(),
  audit: z.array(audit).optional(),
  auth: z.array(auth).optional(),
  groups: z.array(group).optional(),
  "group-aliases": z.array(groupAlias).optional(),
  plugins: z.unknown().optional(),
  policies: z.array(policy).optional(),
  secrets: z.array(secretsEngine).optional(),
  startupSecrets: z.array(startupSecret).optional(),
});

export type ExternalConfig = z.output<typeof externalConfigSchema>;
export type AuthEntry = z.output<typeof auth>;
export type SecretsEntry = z.output<typeof secretsEngine>;
export type PurgeSection = (typeof PURGE_SECTIONS)[number];

/** Where a configuration came from, for the first words of an error. */
export interface ConfigOrigin {
  readonly source: string;
}

/**
 * bank-vaults renders the file as a Go template with `${` `}` delimiters.
 * vault-ha supports its `env` function (`${ env "X" }`, ``${ env `X` }``);
 * any other function is refused by name rather than left in a value. An
 * unset variable is an error: bank-vaults would write an empty string, and an
 * empty password is never what the file meant.
 */
export function substituteEnv(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  origin: ConfigOrigin,
): string {
  return text.replace(/\$\{\s*([^}]*?)\s*\}/g, (whole, expression: string) => {
    const call = /^env\s+(?:"([^"]*)"|`([^`]*)`)$/.exec(expression);
    if (!call) {
      const name = expression.split(/\s+/)[0] || "(empty)";
      throw new UsageError(
        `${origin.source}: ${whole} uses the template function "${name}", which vault-ha does not support; only \${ env "NAME" } is replaced`,
      );
    }
    const name = (call[1] ?? call[2]) as string;
    const value = env[name];
    if (value === undefined) {
      throw new UsageError(
        `${origin.source}: ${whole} names the environment variable ${name}, which is not set; export it and run the command again`,
      );
    }
    return value;
  });
}

/** The same substitution on every string inside a parsed value (inline configuration). */
function substituteInValue(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  origin: ConfigOrigin,
): unknown {
  if (typeof value === "string") return substituteEnv(value, env, origin);
  if (Array.isArray(value)) return value.map((item) => substituteInValue(item, env, origin));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, substituteInValue(item, env, origin)]),
    );
  }
  return value;
}

/** Reads a file's text (YAML or JSON, after `${ env }` substitution). */
export function parseExternalConfigText(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  origin: ConfigOrigin,
): ExternalConfig {
  let parsed: unknown;
  try {
    // YAML 1.2 reads JSON too.
    parsed = parseYaml(substituteEnv(text, env, origin));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(
      `${origin.source} is neither YAML nor JSON (${(error as Error).message.split("\n")[0]}); fix the file and run the command again`,
    );
  }
  return validateExternalConfig(parsed ?? {}, origin);
}

/** Validates an object (inline `configure:` or startCluster's option). */
export function externalConfigFromValue(
  value: unknown,
  env: Readonly<Record<string, string | undefined>>,
  origin: ConfigOrigin,
): ExternalConfig {
  return validateExternalConfig(substituteInValue(value, env, origin), origin);
}

const UNSUPPORTED_ENTRY_KEYS: Readonly<Record<string, string>> = {
  "auth.groups": "auth groups (github, ldap, okta)",
  "auth.map": "auth maps (github teams and users)",
  "auth.crossaccountrole": "aws cross-account roles",
  "secrets.plugin_name": "secrets engines from plugins",
  "startupSecrets.data.secretKeyRef": "Kubernetes secretKeyRef",
};

function validateExternalConfig(value: unknown, origin: ConfigOrigin): ExternalConfig {
  const result = externalConfigSchema.safeParse(value);
  if (!result.success) {
    // A misspelt key also leaves its real name missing: name the spelling.
    const issue = (result.error.issues.find((item) => item.code === "unrecognized_keys") ??
      result.error.issues[0]) as z.core.$ZodIssue;
    const where = issue.path.map(String).join(".") || "(top level)";
    const detail =
      issue.code === "unrecognized_keys"
        ? `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")} (bank-vaults decodes strictly; check the spelling)`
        : issue.message;
    throw new UsageError(`${origin.source}: ${where}: ${detail}`);
  }
  const config = result.data;
  const refused: string[] = [];
  if (config.plugins !== undefined) refused.push("plugins");
  config.auth?.forEach((entry, index) => {
    if (!(AUTH_TYPES as readonly string[]).includes(entry.type))
      refused.push(`auth[${index}].type ${entry.type} (supported: ${AUTH_TYPES.join(", ")})`);
    for (const key of ["groups", "map", "crossaccountrole"] as const)
      if (entry[key] !== undefined)
        refused.push(`auth[${index}].${key}: ${UNSUPPORTED_ENTRY_KEYS[`auth.${key}`]}`);
  });
  config.secrets?.forEach((entry, index) => {
    if (entry.plugin_name !== undefined)
      refused.push(
        `secrets[${index}].plugin_name: ${UNSUPPORTED_ENTRY_KEYS["secrets.plugin_name"]}`,
      );
    for (const [sub, items] of Object.entries(entry.configuration ?? {}))
      items.forEach((item, itemIndex) => {
        for (const flag of ["rotate", "save_to"])
          if (item[flag] !== undefined)
            refused.push(`secrets[${index}].configuration.${sub}[${itemIndex}].${flag}`);
      });
  });
  config.audit?.forEach((entry, index) => {
    if (entry.type !== "file")
      refused.push(`audit[${index}].type ${entry.type} (supported: file, to /vault/logs)`);
  });
  config.startupSecrets?.forEach((entry, index) => {
    if (entry.type !== "kv")
      refused.push(`startupSecrets[${index}].type ${entry.type} (supported: kv)`);
    if (entry.data.secretKeyRef !== undefined)
      refused.push(
        `startupSecrets[${index}].data.secretKeyRef: ${UNSUPPORTED_ENTRY_KEYS["startupSecrets.data.secretKeyRef"]}`,
      );
  });
  if (refused.length > 0) {
    throw new UsageError(
      `${origin.source} uses bank-vaults settings vault-ha does not apply yet: ${refused.join("; ")}; remove them (or apply them with bank-vaults itself)`,
    );
  }
  return config;
}

/** The mount path of an entry: bank-vaults' default is the type. */
export const mountPath = (entry: { type: string; path?: string | undefined }) =>
  (entry.path ?? entry.type).replace(/^\/+|\/+$/g, "");
