import { readFile } from "node:fs/promises";
import path from "node:path";
import type { VaultApi } from "../adapters/vault/vault-api.js";
import { differingKeys, sameValue } from "../core/configure-compare.js";
import { ConflictError, UsageError } from "../core/errors.js";
import {
  type AuthEntry,
  type ExternalConfig,
  externalConfigFromValue,
  mountPath,
  type PurgeSection,
  parseExternalConfigText,
  type SecretsEntry,
} from "../core/external-config.js";

/** One write configure made (or, with dryRun, would make). */
export interface ConfigureChange {
  readonly action: "create" | "update" | "delete";
  /** What it is, in words: "policy app-read", "auth approle/ role ci". */
  readonly what: string;
  /** The API path written. */
  readonly path: string;
}

type Body = Record<string, unknown>;

const dataOf = (answer: Body | undefined): Body | undefined =>
  answer === undefined ? undefined : ((answer.data as Body | undefined) ?? answer);

const without = (body: Body, ...keys: string[]): Body =>
  Object.fromEntries(Object.entries(body).filter(([key]) => !keys.includes(key)));

const defined = (body: Body): Body =>
  Object.fromEntries(Object.entries(body).filter(([, value]) => value !== undefined));

/** Mount tables (sys/auth, sys/mounts, sys/audit) keyed by "path/". */
async function mountTable(api: VaultApi, path: string): Promise<Record<string, Body>> {
  const answer = dataOf(await api.read(path)) ?? {};
  return Object.fromEntries(
    Object.entries(answer).filter(
      ([key, value]) => key.endsWith("/") && typeof value === "object" && value !== null,
    ),
  ) as Record<string, Body>;
}

/** `kv-v2` is Vault's alias for a kv mount with options.version 2. */
function mountShape(entry: SecretsEntry): { type: string; options: Body | undefined } {
  const options = entry.options ? { ...entry.options } : undefined;
  if (entry.type === "kv-v2") return { type: "kv", options: { ...options, version: "2" } };
  if (options && options.version !== undefined) options.version = String(options.version);
  return { type: entry.type, options };
}

/**
 * Applies a bank-vaults external configuration through Vault's API, in
 * bank-vaults' order (audit, auth, groups and aliases, policies, secrets,
 * startup secrets, then the opt-in purge). Every object is read first and
 * written only when it is absent or differs, so a second apply writes
 * nothing and says so. With `dryRun`, nothing is written: the changes are
 * what an apply would make now.
 */
export async function applyExternalConfig(
  api: VaultApi,
  config: ExternalConfig,
  options: { dryRun?: boolean } = {},
): Promise<ConfigureChange[]> {
  const dryRun = options.dryRun === true;
  // A plan first: a conflict (a mount of another type) is found before the
  // first write, so a refused configuration leaves Vault as it was.
  if (!dryRun) await applyExternalConfig(api, config, { dryRun: true });
  const changes: ConfigureChange[] = [];
  const change = async (
    action: ConfigureChange["action"],
    what: string,
    path: string,
    write: () => Promise<unknown>,
  ) => {
    changes.push({ action, what, path });
    if (!dryRun) await write();
  };
  /** Creates or updates one object read at `path`; `compare` picks what must match. */
  const upsert = async (what: string, path: string, body: Body, compare: Body = body) => {
    const current = dataOf(await api.read(path));
    if (current === undefined) await change("create", what, path, () => api.write(path, body));
    else if (differingKeys(compare, current).length > 0)
      await change("update", what, path, () => api.write(path, body));
  };

  // audit: enabled when absent; Vault cannot change a device in place.
  const audits = await mountTable(api, "sys/audit");
  for (const entry of config.audit ?? []) {
    const path = mountPath(entry);
    if (audits[`${path}/`]) continue;
    const body = defined({
      type: entry.type,
      description: entry.description,
      // Every node's /vault/logs is its own: each node writes the file while active.
      options: { file_path: `/vault/logs/${path}.log`, ...entry.options },
    });
    await change("create", `audit ${path}/`, `sys/audit/${path}`, () =>
      api.write(`sys/audit/${path}`, body),
    );
  }

  // auth
  const authMounts = await mountTable(api, "sys/auth");
  for (const entry of config.auth ?? []) await applyAuth(entry, authMounts);

  async function applyAuth(entry: AuthEntry, mounts: Record<string, Body>) {
    const path = mountPath(entry);
    const existing = mounts[`${path}/`];
    if (!existing) {
      await change("create", `auth ${path}/ (${entry.type})`, `sys/auth/${path}`, () =>
        api.write(
          `sys/auth/${path}`,
          defined({ type: entry.type, description: entry.description }),
        ),
      );
    } else if (existing.type !== entry.type) {
      throw new ConflictError(
        `auth path ${path}/ is a ${String(existing.type)} mount in Vault, and the configuration asks for ${entry.type}; give the entry another path, or disable the mount (vault auth disable ${path})`,
      );
    }
    const mounted = existing !== undefined;
    if (entry.options) {
      const tunePath = `sys/auth/${path}/tune`;
      const current = mounted ? (dataOf(await api.read(tunePath)) ?? {}) : {};
      if (!mounted || differingKeys(entry.options, current).length > 0)
        await change("update", `auth ${path}/ tune`, tunePath, () =>
          api.write(tunePath, entry.options as Body),
        );
    }
    if (entry.config) await upsert(`auth ${path}/ config`, `auth/${path}/config`, entry.config);
    const rolesBase = entry.type === "token" ? "auth/token/roles" : `auth/${path}/role`;
    for (const role of entry.roles ?? []) {
      const body = without(role, "name");
      await upsert(`auth ${path}/ role ${role.name}`, `${rolesBase}/${role.name}`, body);
    }
    for (const user of entry.users ?? []) {
      const userPath = `auth/${path}/users/${user.username}`;
      const body = without(user, "username");
      const current = dataOf(await api.read(userPath));
      const what = `auth ${path}/ user ${user.username}`;
      if (current === undefined) {
        await change("create", what, userPath, () => api.write(userPath, body));
        continue;
      }
      const fieldsDiffer = differingKeys(without(body, "password"), current).length > 0;
      // Vault never reports a password back: a login says whether it is still right.
      const passwordDiffers =
        typeof body.password === "string" &&
        !(await passwordStillWorks(api, path, user.username, body.password));
      if (fieldsDiffer || passwordDiffers)
        await change("update", what, userPath, () => api.write(userPath, body));
    }
  }

  // groups and their aliases
  for (const group of config.groups ?? []) {
    const namePath = `identity/group/name/${group.name}`;
    const body = defined({ type: group.type, policies: group.policies, metadata: group.metadata });
    const current = dataOf(await api.read(namePath));
    const what = `group ${group.name}`;
    if (current === undefined)
      await change("create", what, "identity/group", () =>
        api.write("identity/group", { name: group.name, ...body }),
      );
    // A group's type cannot change once it exists.
    else if (differingKeys(without(body, "type"), current).length > 0)
      await change("update", what, namePath, () => api.write(namePath, without(body, "type")));
  }
  if ((config["group-aliases"] ?? []).length > 0) {
    const mounts = await mountTable(api, "sys/auth");
    for (const alias of config["group-aliases"] ?? []) {
      const mount = alias.mountpath.replace(/^\/+|\/+$/g, "").replace(/^auth\//, "");
      const accessor = mounts[`${mount}/`]?.accessor as string | undefined;
      const group = dataOf(await api.read(`identity/group/name/${alias.group}`));
      const what = `group alias ${alias.name} (${alias.group})`;
      if (!accessor || !group) {
        // Only a dry run gets here legitimately: the mount or group is still to be made.
        if (dryRun) changes.push({ action: "create", what, path: "identity/group-alias" });
        else
          throw new ConflictError(
            `group-aliases: ${!accessor ? `no auth mount at ${mount}/` : `no group named ${alias.group}`} for alias ${alias.name}; add it to the configuration's ${!accessor ? "auth" : "groups"}`,
          );
        continue;
      }
      const current = group.alias as Body | undefined;
      const body = { name: alias.name, mount_accessor: accessor, canonical_id: group.id };
      if (current?.name === alias.name && current.mount_accessor === accessor) continue;
      if (typeof current?.id === "string" && current.id !== "")
        await change("update", what, `identity/group-alias/id/${current.id}`, () =>
          api.write(`identity/group-alias/id/${current.id}`, body),
        );
      else
        await change("create", what, "identity/group-alias", () =>
          api.write("identity/group-alias", body),
        );
    }
  }

  // policies, with __accessor__<auth path> replaced as bank-vaults does
  if ((config.policies ?? []).length > 0) {
    const mounts = await mountTable(api, "sys/auth");
    const accessors = Object.entries(mounts)
      .map(([key, value]) => [key.replace(/\/$/, ""), String(value.accessor ?? "")] as const)
      // Longest first, so __accessor__jwt-ci is not read as __accessor__jwt + "-ci".
      .sort((a, b) => b[0].length - a[0].length);
    for (const policy of config.policies ?? []) {
      let rules = policy.rules;
      for (const [path, accessor] of accessors)
        rules = rules.replaceAll(`__accessor__${path}`, accessor);
      const path = `sys/policies/acl/${policy.name}`;
      const current = dataOf(await api.read(path));
      const what = `policy ${policy.name}`;
      if (current === undefined)
        await change("create", what, path, () => api.write(path, { policy: rules }));
      else if (String(current.policy ?? "").trim() !== rules.trim())
        await change("update", what, path, () => api.write(path, { policy: rules }));
    }
  }

  // secrets engines
  const secretMounts = await mountTable(api, "sys/mounts");
  for (const entry of config.secrets ?? []) {
    const path = mountPath(entry);
    const { type, options: mountOptions } = mountShape(entry);
    const existing = secretMounts[`${path}/`];
    if (!existing) {
      const body = defined({
        type,
        description: entry.description,
        options: mountOptions,
        config: entry.config,
        local: entry.local,
        seal_wrap: entry.seal_wrap,
      });
      await change("create", `secrets ${path}/ (${type})`, `sys/mounts/${path}`, () =>
        api.write(`sys/mounts/${path}`, body),
      );
    } else {
      if (existing.type !== type)
        throw new ConflictError(
          `secrets path ${path}/ is a ${String(existing.type)} mount in Vault, and the configuration asks for ${type}; give the entry another path, or disable the mount (vault secrets disable ${path})`,
        );
      const optionsDiffer =
        mountOptions !== undefined &&
        !sameValue(mountOptions, { ...((existing.options as Body | null) ?? {}) });
      const configDiffers =
        entry.config !== undefined &&
        differingKeys(entry.config, (existing.config as Body | undefined) ?? {}).length > 0;
      if (optionsDiffer || configDiffers)
        await change("update", `secrets ${path}/ tune`, `sys/mounts/${path}/tune`, () =>
          api.write(`sys/mounts/${path}/tune`, defined({ ...entry.config, options: mountOptions })),
        );
    }
    if (entry.max_versions !== undefined)
      await upsert(`secrets ${path}/ config`, `${path}/config`, {
        max_versions: entry.max_versions,
      });
    for (const [sub, items] of Object.entries(entry.configuration ?? {})) {
      for (const item of items) {
        const name = typeof item.name === "string" ? item.name : undefined;
        const target = name ? `${path}/${sub}/${name}` : `${path}/${sub}`;
        const body = without(item, "name", "create_only");
        const what = `secrets ${path}/ ${sub}${name ? ` ${name}` : ""}`;
        const current = existing ? dataOf(await api.read(target)) : undefined;
        if (current === undefined)
          await change("create", what, target, () => api.write(target, body));
        else if (item.create_only !== true && differingKeys(body, current).length > 0)
          await change("update", what, target, () => api.write(target, body));
      }
    }
  }

  // startup secrets: written only when the stored data differs
  const mountsNow = dryRun ? secretMounts : await mountTable(api, "sys/mounts");
  for (const secret of config.startupSecrets ?? []) {
    const path = secret.path.replace(/^\/+/, "");
    const mount = path.split("/")[0] as string;
    const declared = (config.secrets ?? []).find((entry) => mountPath(entry) === mount);
    const declaredVersion = declared ? mountShape(declared).options?.version : undefined;
    const version = String(
      declaredVersion ?? (mountsNow[`${mount}/`]?.options as Body | null)?.version ?? "1",
    );
    const data = secret.data.data ?? {};
    const what = `startup secret ${path}`;
    if (version === "2") {
      if (secret.max_versions !== undefined && path.includes("/data/"))
        await upsert(`${what} max_versions`, path.replace("/data/", "/metadata/"), {
          max_versions: secret.max_versions,
        });
      const current = dataOf(await api.read(path))?.data as Body | null | undefined;
      if (!current || !sameSecret(data, current))
        await change(current ? "update" : "create", what, path, () =>
          api.write(path, defined({ data, options: secret.data.options })),
        );
    } else {
      const current = dataOf(await api.read(path));
      if (!current || !sameSecret(data, current))
        await change(current ? "update" : "create", what, path, () => api.write(path, data));
    }
  }

  if (config.purgeUnmanagedConfig?.enabled)
    await purgeUnmanaged(api, config, config.purgeUnmanagedConfig.exclude ?? {}, change);
  return changes;
}

/** A secret's data matches only with the same keys and values. */
function sameSecret(wanted: Body, current: Body): boolean {
  const keys = Object.keys(wanted);
  return (
    keys.length === Object.keys(current).length &&
    keys.every((key) => Object.hasOwn(current, key) && sameValue(wanted[key], current[key]))
  );
}

async function passwordStillWorks(
  api: VaultApi,
  path: string,
  username: string,
  password: string,
): Promise<boolean> {
  let answer: Body;
  try {
    answer = await api.write(`auth/${path}/login/${username}`, { password });
  } catch {
    // Vault answers 400 "invalid username or password": the password changed.
    return false;
  }
  const accessor = (answer.auth as Body | undefined)?.accessor;
  // The check's own token goes at once.
  if (typeof accessor === "string") await api.write("auth/token/revoke-accessor", { accessor });
  return true;
}

type Change = (
  action: ConfigureChange["action"],
  what: string,
  path: string,
  write: () => Promise<unknown>,
) => Promise<void>;

/**
 * What purgeUnmanagedConfig may remove, section by section (bank-vaults'
 * list): where the names come from, what the file keeps, what is built in
 * and never removed, and where each one is deleted.
 */
const PURGEABLE: readonly {
  readonly section: PurgeSection;
  readonly label: string;
  readonly names: (api: VaultApi) => Promise<string[]>;
  readonly kept: (config: ExternalConfig) => string[];
  readonly builtIn: readonly string[];
  readonly deletePath: (name: string) => string;
}[] = [
  {
    section: "audit",
    label: "audit",
    names: async (api) => Object.keys(await mountTable(api, "sys/audit")),
    kept: (config) => (config.audit ?? []).map((entry) => `${mountPath(entry)}/`),
    builtIn: [],
    deletePath: (name) => `sys/audit/${name.replace(/\/$/, "")}`,
  },
  {
    section: "auth",
    label: "auth",
    names: async (api) => Object.keys(await mountTable(api, "sys/auth")),
    kept: (config) => (config.auth ?? []).map((entry) => `${mountPath(entry)}/`),
    builtIn: ["token/"],
    deletePath: (name) => `sys/auth/${name.replace(/\/$/, "")}`,
  },
  {
    section: "groups",
    label: "group",
    names: (api) => api.list("identity/group/name"),
    kept: (config) => (config.groups ?? []).map((group) => group.name),
    builtIn: [],
    deletePath: (name) => `identity/group/name/${name}`,
  },
  {
    section: "policies",
    label: "policy",
    names: (api) => api.list("sys/policies/acl"),
    kept: (config) => (config.policies ?? []).map((policy) => policy.name),
    builtIn: ["root", "default"],
    deletePath: (name) => `sys/policies/acl/${name}`,
  },
  {
    section: "secrets",
    label: "secrets",
    names: async (api) => Object.keys(await mountTable(api, "sys/mounts")),
    kept: (config) => (config.secrets ?? []).map((entry) => `${mountPath(entry)}/`),
    builtIn: ["sys/", "identity/", "cubbyhole/"],
    deletePath: (name) => `sys/mounts/${name.replace(/\/$/, "")}`,
  },
];

async function purgeUnmanaged(
  api: VaultApi,
  config: ExternalConfig,
  exclude: Partial<Record<PurgeSection, boolean>>,
  change: Change,
) {
  for (const section of PURGEABLE) {
    if (exclude[section.section]) continue;
    const kept = new Set([...section.kept(config), ...section.builtIn]);
    for (const name of await section.names(api)) {
      if (kept.has(name)) continue;
      const path = section.deletePath(name);
      await change("delete", `${section.label} ${name}`, path, () => api.delete(path));
    }
  }
}

/**
 * The declared configuration of a cluster: `configure` is a file's path
 * (relative to `cwd`) or the object itself (inline in vault-ha.config.yaml,
 * or startCluster's option). Read and validated before anything starts, so
 * a bad file costs nothing.
 */
export async function readExternalConfig(
  configure: string | Readonly<Record<string, unknown>> | undefined,
  cwd: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<ExternalConfig | undefined> {
  if (configure === undefined) return undefined;
  if (typeof configure !== "string")
    return externalConfigFromValue(configure, env, { source: "configure" });
  const file = path.resolve(cwd, configure);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new UsageError(
      `cannot read the configure file ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); check the path given to --configure or configure:`,
    );
  }
  return parseExternalConfigText(text, env, { source: file });
}
