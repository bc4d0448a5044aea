import { parse as parseYaml, YAMLParseError } from "yaml";
import { ConflictError, UsageError } from "./errors.js";

// The file formats of `vault-ha secrets`: starkandwayne safe's export (v1,
// and v2 with every version) and FalcoSuessgott vkv's JSON/YAML (flat, and
// the legacy nested form), plus safe's tree drawing. Pure: Vault's answers
// come in as data, and nothing here reads, writes or prints. Error messages
// name paths and never a value: values are secrets.

/** A secret's key/value pairs, as KV stores them. */
export type SecretData = Readonly<Record<string, unknown>>;

export interface SecretVersion {
  /** Absent for a destroyed version: there is nothing left to keep. */
  readonly value?: SecretData;
  readonly deleted?: boolean;
  readonly destroyed?: boolean;
}

export interface SecretHistory {
  /** The logical path: mount, then the secret's path, without KV v2's `data/` segment. */
  readonly path: string;
  /** The number of the first version listed (KV v2 forgets versions past max_versions). */
  readonly first: number;
  /** Oldest first. */
  readonly versions: readonly SecretVersion[];
}

export type KvVersion = 1 | 2;

/** A secrets engine from sys/mounts; `version` only for KV. */
export interface MountInfo {
  /** With its trailing slash, as sys/mounts names it: `secret/`. */
  readonly path: string;
  readonly type: string;
  readonly version?: KvVersion;
}

export interface KvMount {
  readonly path: string;
  readonly version: KvVersion;
}

export type SecretsFormat = "safe-v1" | "safe-v2" | "vkv-flat" | "vkv-nested";

export const FORMAT_NAMES: Readonly<Record<SecretsFormat, string>> = {
  "safe-v1": "safe v1",
  "safe-v2": "safe v2",
  "vkv-flat": "vkv flat",
  "vkv-nested": "vkv nested",
};

/** What an import file holds, whatever its format. */
export interface SecretsFile {
  readonly format: SecretsFormat;
  /**
   * safe v2 carries whole histories, replayed so that version numbers match;
   * the other formats carry one value per secret, written only if it differs.
   */
  readonly versioned: boolean;
  readonly secrets: readonly SecretHistory[];
  /** Mounts the file names (vkv's root, safe v2's requires_versioning), with the KV version it asks for. */
  readonly mounts: readonly { readonly path: string; readonly version?: KvVersion }[];
}

// ---------------------------------------------------------------- paths

/** `/secret//a/b/` → `secret/a/b`. */
export function canonicalPath(path: string): string {
  return path
    .trim()
    .split("/")
    .filter((part) => part !== "")
    .join("/");
}

/** `secret` or `secret/` → `secret/`: how sys/mounts names a mount. */
export const mountName = (path: string) => `${canonicalPath(path)}/`;

/** Go's string order (bytes; UTF-16 units agree for the ASCII Vault paths use). */
const goCompare = (left: string, right: string) => (left < right ? -1 : left > right ? 1 : 0);

/**
 * safe's PathLessThan as a comparator: segment by segment, then the shorter
 * path first, so `g` comes before `g/a` and a secret before the folder of
 * the same name (the order its tree drawing relies on).
 */
export function comparePaths(left: string, right: string): number {
  const leftParts = canonicalPath(left).split("/");
  const rightParts = canonicalPath(right).split("/");
  for (let index = 0; index < Math.min(leftParts.length, rightParts.length); index++) {
    const order = goCompare(leftParts[index] as string, rightParts[index] as string);
    if (order !== 0) return order;
  }
  if (left.length !== right.length) return left.length < right.length ? -1 : 1;
  if (left === right) return 0;
  return left.endsWith("/") ? 1 : -1;
}

/** The mount (longest match) a logical path lives in, if any. */
export function mountOf<T extends { readonly path: string }>(
  path: string,
  mounts: readonly T[],
): T | undefined {
  const full = `${canonicalPath(path)}/`;
  let best: T | undefined;
  for (const mount of mounts) {
    if (full.startsWith(mount.path) && (!best || mount.path.length > best.path.length))
      best = mount;
  }
  return best;
}

/** Each segment URL-encoded, so a name with `?`, `#` or `%` stays one path. */
const encodePath = (path: string) =>
  path
    .split("/")
    .map((segment) => encodeURIComponent(segment))
    .join("/");

export type KvOperation = "data" | "metadata" | "delete" | "undelete" | "destroy";

/**
 * The API path of one KV operation on a secret (`rel`, relative to the
 * mount; empty for the mount's root): KV v1 has only the plain path, KV v2 a
 * prefix per operation (`secret/data/app`, `secret/metadata/app`, ...).
 */
export function kvApiPath(mount: KvMount, operation: KvOperation, rel: string): string {
  const tail = encodePath(canonicalPath(rel));
  if (mount.version === 1) return `${mount.path}${tail}`;
  return `${mount.path}${operation}/${tail}`;
}

// ---------------------------------------------------------------- Vault's shapes

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Every secrets engine in a `GET sys/mounts` answer (the mounts sit under `data`, and at the top in older Vaults). */
export function mountsFromSysMounts(answer: Record<string, unknown>): MountInfo[] {
  const table = isRecord(answer.data) ? answer.data : answer;
  const mounts: MountInfo[] = [];
  for (const [path, entry] of Object.entries(table)) {
    if (!path.endsWith("/") || !isRecord(entry) || typeof entry.type !== "string") continue;
    const options = isRecord(entry.options) ? entry.options : {};
    const isKv = entry.type === "kv" || entry.type === "generic";
    mounts.push({
      path,
      type: entry.type,
      ...(isKv ? { version: String(options.version ?? "1") === "2" ? 2 : 1 } : {}),
    });
  }
  return mounts.sort((left, right) => goCompare(left.path, right.path));
}

export const kvMounts = (mounts: readonly MountInfo[]): KvMount[] =>
  mounts.flatMap((mount) =>
    mount.version === undefined ? [] : [{ path: mount.path, version: mount.version }],
  );

export interface VersionState {
  readonly number: number;
  readonly deleted: boolean;
  readonly destroyed: boolean;
}

export interface KvMetadata {
  readonly current: number;
  /** Oldest first. */
  readonly versions: readonly VersionState[];
}

/**
 * A KV v2 `metadata/<path>` answer as version states. A version is deleted
 * once its deletion_time has passed: `delete_version_after` sets one in the
 * future, and until then the version reads as any other.
 */
export function metadataFromAnswer(answer: Record<string, unknown>, now: Date): KvMetadata {
  const data = isRecord(answer.data) ? answer.data : {};
  const table = isRecord(data.versions) ? data.versions : {};
  const versions = Object.entries(table)
    .map(([number, entry]) => {
      const fields = isRecord(entry) ? entry : {};
      const deletion = typeof fields.deletion_time === "string" ? fields.deletion_time : "";
      return {
        number: Number(number),
        deleted: deletion !== "" && Date.parse(deletion) <= now.getTime(),
        destroyed: fields.destroyed === true,
      };
    })
    .filter((version) => Number.isInteger(version.number) && version.number > 0)
    .sort((left, right) => left.number - right.number);
  const current = typeof data.current_version === "number" ? data.current_version : 0;
  return { current, versions };
}

/** Whether a KV v2 secret's current version can be read (what `safe tree` and a v1 export show). */
export function isAlive(metadata: KvMetadata): boolean {
  const current = metadata.versions.find((version) => version.number === metadata.current);
  return current !== undefined && !current.deleted && !current.destroyed;
}

/** The key/value pairs of a read: `data` for KV v1, `data.data` for KV v2. */
export function secretDataFromAnswer(
  answer: Record<string, unknown>,
  version: KvVersion,
): SecretData | undefined {
  const data = answer.data;
  if (version === 1) return isRecord(data) ? data : undefined;
  return isRecord(data) && isRecord(data.data) ? data.data : undefined;
}

// ---------------------------------------------------------------- what to walk

export interface WalkRoot {
  readonly mount: KvMount;
  /** Relative to the mount; empty for the whole mount. */
  readonly sub: string;
}

/**
 * The mounts and sub-paths that `export` and `tree` walk: every KV mount
 * when no path is given; a path under no KV mount is refused with the list
 * of KV mounts. A path inside another one given too is dropped (its secrets
 * come with the outer walk).
 */
export function walkRoots(paths: readonly string[], mounts: readonly KvMount[]): WalkRoot[] {
  if (paths.length === 0) return mounts.map((mount) => ({ mount, sub: "" }));
  const roots = paths.map((raw) => {
    const path = canonicalPath(raw);
    const mount = mountOf(path, mounts);
    if (!mount || path === "") {
      const known = mounts.map((candidate) => candidate.path).join(", ") || "none";
      throw new UsageError(`${raw} is not under a KV mount; KV mounts: ${known}`);
    }
    return { mount, sub: path.slice(mount.path.length) };
  });
  const full = (root: WalkRoot) => `${root.mount.path}${root.sub}`;
  const sorted = [...roots].sort((left, right) => comparePaths(full(left), full(right)));
  return sorted.filter(
    (root, index) =>
      !sorted
        .slice(0, index)
        .some(
          (outer) =>
            full(outer) === full(root) ||
            (outer.sub === "" && root.mount === outer.mount) ||
            full(root).startsWith(`${full(outer)}/`),
        ),
  );
}

// ---------------------------------------------------------------- export

/** safe keeps values as strings: a number or object becomes its JSON (as safe's Go does). */
export function stringValues(data: SecretData): Record<string, string> {
  const result: Record<string, string> = {};
  for (const key of Object.keys(data).sort(goCompare)) {
    const value = data[key];
    result[key] = typeof value === "string" ? value : JSON.stringify(value ?? null);
  }
  return result;
}

/** Keys in Go's order: safe marshals maps, and encoding/json sorts their keys. */
const sortedEntries = <T>(record: Readonly<Record<string, T>>) =>
  Object.keys(record)
    .sort(goCompare)
    .map((key) => [key, record[key] as T] as const);

/**
 * safe's v1 export: `{"<path>": {"<key>": "<value>"}}` of each secret's
 * latest version, one compact line as `safe export` prints it. The caller
 * leaves out secrets whose latest version is deleted or destroyed.
 */
export function renderSafeV1(secrets: readonly SecretHistory[]): string {
  const byPath: Record<string, SecretData> = {};
  for (const secret of secrets) byPath[secret.path] = secret.versions.at(-1)?.value ?? {};
  const document = Object.fromEntries(
    sortedEntries(byPath).map(([path, value]) => [path, stringValues(value)]),
  );
  return `${JSON.stringify(document)}\n`;
}

/**
 * safe's v2 export (`safe export --all --deleted`): a one-element array, so
 * safe before 1.0 refuses it instead of misreading it. `requires_versioning`
 * says `true` for each KV v2 mount, as safe does, and `false` for each KV v1
 * mount, which safe ignores and `secrets import` reads as "mount it as v1".
 */
export function renderSafeV2(
  secrets: readonly SecretHistory[],
  mounts: readonly KvMount[],
): string {
  const data: Record<string, unknown> = {};
  const versioning: Record<string, boolean> = {};
  for (const secret of [...secrets].sort((left, right) => goCompare(left.path, right.path))) {
    const mount = mountOf(secret.path, mounts);
    if (mount) versioning[mount.path] = mount.version === 2;
    data[secret.path] = {
      ...(secret.first !== 1 ? { first: secret.first } : {}),
      versions: secret.versions.map((version) => ({
        ...(version.deleted ? { deleted: true } : {}),
        ...(version.destroyed ? { destroyed: true } : {}),
        ...(version.value && !version.destroyed ? { value: stringValues(version.value) } : {}),
      })),
    };
  }
  const document = [
    {
      export_version: 2,
      data,
      requires_versioning: Object.fromEntries(sortedEntries(versioning)),
    },
  ];
  return `${JSON.stringify(document)}\n`;
}

/** Where `export` may write: values never reach a terminal unless asked (--force). */
export function exportDestination(options: {
  readonly output?: string;
  readonly force?: boolean;
  readonly stdoutIsTerminal: boolean;
}): "file" | "stdout" {
  if (options.output !== undefined && options.output !== "") return "file";
  if (!options.stdoutIsTerminal || options.force) return "stdout";
  throw new UsageError(
    "secrets export prints secret values and stdout is a terminal; write them to a file (-o secrets.json, owner-only), pipe them, or add --force",
  );
}

// ---------------------------------------------------------------- import: parsing

/**
 * The file as data: JSON first (safe's and vkv's JSON), then YAML (vkv's
 * YAML). Parse errors give the position only: both parsers quote the
 * offending text, which may be a value.
 */
function documentOf(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // Not JSON: try YAML, which vkv also writes.
  }
  try {
    return parseYaml(text);
  } catch (error) {
    const where =
      error instanceof YAMLParseError && error.linePos
        ? ` (line ${error.linePos[0].line}, column ${error.linePos[0].col})`
        : "";
    throw new UsageError(`${source} is neither JSON nor YAML${where}; give a safe or vkv export`);
  }
}

function unknownFormat(source: string): UsageError {
  return new UsageError(
    `${source}: unknown export file format; expected a safe export (v1 or v2) or a vkv export (JSON or YAML)`,
  );
}

/**
 * Which format a parsed file is in, or undefined. safe v2 is a one-element
 * array with `export_version: 2`; an object whose keys all end in `/` is
 * vkv's nested form; any other object of objects is safe v1 (paths start at
 * the mount), or vkv's flat form (paths relative to a root) when the user
 * gives that root: the two look alike, so only `--path` tells them apart.
 */
export function detectFormat(document: unknown, hasRoot: boolean): SecretsFormat | undefined {
  if (Array.isArray(document)) {
    const [only] = document;
    return document.length === 1 && isRecord(only) && only.export_version === 2
      ? "safe-v2"
      : undefined;
  }
  if (!isRecord(document)) return undefined;
  const keys = Object.keys(document);
  if (!Object.values(document).every(isRecord)) return undefined;
  const folders = keys.filter((key) => key.endsWith("/"));
  if (keys.length > 0 && folders.length === keys.length) return "vkv-nested";
  if (folders.length > 0) return undefined;
  return hasRoot ? "vkv-flat" : "safe-v1";
}

const single = (path: string, value: SecretData): SecretHistory => ({
  path,
  first: 1,
  versions: [{ value }],
});

function safeV1Secrets(document: Record<string, unknown>, source: string): SecretHistory[] {
  return Object.entries(document).map(([raw, value]) => {
    const path = canonicalPath(raw);
    if (!path.includes("/")) {
      throw new UsageError(
        `${source}: ${JSON.stringify(raw)} names no mount (safe paths start with one, as in secret/app); if it is a vkv flat export, give its root with --path MOUNT`,
      );
    }
    return single(path, value as SecretData);
  });
}

function safeV2Secrets(
  document: Record<string, unknown>,
  source: string,
): { secrets: SecretHistory[]; mounts: { path: string; version: KvVersion }[] } {
  if (!isRecord(document.data)) throw unknownFormat(source);
  const secrets = Object.entries(document.data).map(([raw, entry]) => {
    const path = canonicalPath(raw);
    const fields = isRecord(entry) ? entry : {};
    const first = fields.first ?? 1;
    if (!path.includes("/") || !Array.isArray(fields.versions) || fields.versions.length === 0) {
      throw new UsageError(
        `${source}: ${JSON.stringify(raw)} needs a mount and a list of versions`,
      );
    }
    if (typeof first !== "number" || !Number.isInteger(first) || first < 1) {
      throw new UsageError(`${source}: ${path}: "first" must be a whole number from 1`);
    }
    const versions = fields.versions.map((version: unknown, index: number): SecretVersion => {
      if (!isRecord(version) || (version.value !== undefined && !isRecord(version.value))) {
        throw new UsageError(`${source}: ${path}: version ${first + index} is not an object`);
      }
      return {
        ...(version.destroyed === true ? { destroyed: true } : {}),
        ...(version.deleted === true ? { deleted: true } : {}),
        ...(version.destroyed === true ? {} : { value: (version.value ?? {}) as SecretData }),
      };
    });
    return { path, first, versions };
  });
  const versioning = isRecord(document.requires_versioning) ? document.requires_versioning : {};
  const mounts = Object.entries(versioning).map(([path, needs]) => ({
    path: mountName(path),
    version: (needs === false ? 1 : 2) as KvVersion,
  }));
  return { secrets, mounts };
}

/** vkv's legacy nested form: folders end in `/`, anything else is a secret. */
function nestedSecrets(folder: Record<string, unknown>, prefix: string): [string, SecretData][] {
  return Object.entries(folder).flatMap(([key, value]) =>
    key.endsWith("/")
      ? isRecord(value)
        ? nestedSecrets(value, `${prefix}${key}`)
        : []
      : [[canonicalPath(`${prefix}${key}`), value as SecretData] as [string, SecretData]],
  );
}

/** One entry per path (`secret/a` and `/secret//a` are one secret): the last one given wins. */
const uniqueByPath = (secrets: readonly SecretHistory[]) => [
  ...new Map(secrets.map((secret) => [secret.path, secret])).values(),
];

/**
 * Reads an import file: safe v1 or v2, vkv flat (keys relative to `root`,
 * which is then required) or nested (rooted at the engine, `secret/`; with
 * `root`, written under it instead).
 */
export function parseSecretsFile(
  text: string,
  options: { readonly source: string; readonly root?: string },
): SecretsFile {
  const file = parseDocument(text, options);
  return { ...file, secrets: uniqueByPath(file.secrets) };
}

function parseDocument(
  text: string,
  options: { readonly source: string; readonly root?: string },
): SecretsFile {
  const { source } = options;
  const root = options.root === undefined ? undefined : canonicalPath(options.root);
  if (root === "") throw new UsageError("--path needs a mount, as in --path secret or secret/app");
  const document = documentOf(text, source);
  const format = detectFormat(document, root !== undefined);
  if (format === undefined) throw unknownFormat(source);
  if (format === "safe-v2") {
    if (root !== undefined) {
      throw new UsageError(
        `--path is for vkv files; ${source} is a safe v2 export, whose paths start at the mount`,
      );
    }
    const { secrets, mounts } = safeV2Secrets(
      (document as unknown[])[0] as Record<string, unknown>,
      source,
    );
    return { format, versioned: true, secrets, mounts };
  }
  const object = document as Record<string, unknown>;
  if (format === "safe-v1") {
    return { format, versioned: false, secrets: safeV1Secrets(object, source), mounts: [] };
  }
  if (format === "vkv-flat") {
    const secrets = Object.entries(object).map(([key, value]) =>
      single(canonicalPath(`${root}/${key}`), value as SecretData),
    );
    return { format, versioned: false, secrets, mounts: [] };
  }
  const roots = Object.keys(object);
  if (root !== undefined && roots.length > 1) {
    throw new UsageError(
      `${source} has ${roots.length} roots (${roots.join(", ")}); --path moves one root only, so import it without --path`,
    );
  }
  const secrets = roots.flatMap((key) =>
    nestedSecrets(object[key] as Record<string, unknown>, "").map(([rel, value]) =>
      single(canonicalPath(`${root ?? key}/${rel}`), value),
    ),
  );
  // vkv reads a root of several segments (`a/b/c/`) as the engine's path.
  const mounts = root === undefined ? roots.map((key) => ({ path: mountName(key) })) : [];
  for (const secret of secrets) {
    if (!secret.path.includes("/")) {
      throw new UsageError(`${source}: ${secret.path} is a secret at the top, outside any mount`);
    }
  }
  return { format, versioned: false, secrets, mounts };
}

// ---------------------------------------------------------------- import: planning

export interface ImportTarget {
  readonly secret: SecretHistory;
  readonly mount: KvMount;
  /** Relative to the mount. */
  readonly rel: string;
}

export interface ImportPlan {
  /** Mounts to create, in order. */
  readonly create: readonly KvMount[];
  readonly targets: readonly ImportTarget[];
}

/** Whether a history needs KV v2: more than one version, or a deleted or destroyed one. */
export const needsVersioning = (secret: SecretHistory) =>
  secret.versions.length > 1 ||
  secret.first !== 1 ||
  secret.versions.some((version) => version.deleted || version.destroyed);

/**
 * Where each secret goes: the existing mount that holds its path, else a
 * new KV mount named after what the file says (vkv's root, safe v2's
 * requires_versioning), else after the path's first segment; KV v2 unless
 * the file asks for v1. Refused before anything is written: a path in a
 * mount that is not KV, and a history with versions for a KV v1 mount.
 */
export function planImport(file: SecretsFile, existing: readonly MountInfo[]): ImportPlan {
  const create: KvMount[] = [];
  const targets = file.secrets.map((secret): ImportTarget => {
    const found = mountOf(secret.path, existing);
    if (found && found.version === undefined) {
      throw new ConflictError(
        `${secret.path} is in ${found.path}, a ${found.type} engine, not KV; import it under a KV mount (edit the file's paths, or --path for vkv files)`,
      );
    }
    let mount: KvMount | undefined = found as KvMount | undefined;
    if (!mount) {
      mount = mountOf(secret.path, create);
      if (!mount) {
        const named = mountOf(secret.path, file.mounts);
        mount = {
          path: named?.path ?? mountName(secret.path.split("/")[0] as string),
          version: named?.version ?? 2,
        };
        create.push(mount);
      }
    }
    const rel = secret.path.slice(mount.path.length);
    if (rel === "") throw new UsageError(`${secret.path} is a mount, not a secret in one`);
    if (mount.version === 1 && file.versioned && needsVersioning(secret)) {
      throw new ConflictError(
        `${secret.path} has versions (${describeVersions(secret)}) but ${mount.path} is KV v1, which keeps one; enable versioning on it (vault kv enable-versioning ${mount.path}) or import into a KV v2 mount`,
      );
    }
    return { secret, mount, rel };
  });
  return { create, targets };
}

/** "3 versions: 1 deleted, 1 destroyed": counts only, never values. */
export function describeVersions(secret: SecretHistory): string {
  const count = secret.versions.length;
  const deleted = secret.versions.filter((version) => version.deleted && !version.destroyed).length;
  const destroyed = secret.versions.filter((version) => version.destroyed).length;
  const flags = [
    ...(deleted > 0 ? [`${deleted} deleted`] : []),
    ...(destroyed > 0 ? [`${destroyed} destroyed`] : []),
  ];
  return `${count} version${count === 1 ? "" : "s"}${flags.length > 0 ? `: ${flags.join(", ")}` : ""}`;
}

/** Deep equality of JSON values, key order aside. */
export function sameData(left: unknown, right: unknown): boolean {
  if (Array.isArray(left) || Array.isArray(right)) {
    return (
      Array.isArray(left) &&
      Array.isArray(right) &&
      left.length === right.length &&
      left.every((item, index) => sameData(item, right[index]))
    );
  }
  if (isRecord(left) && isRecord(right)) {
    const keys = Object.keys(left);
    return (
      keys.length === Object.keys(right).length &&
      keys.every((key) => Object.hasOwn(right, key) && sameData(left[key], right[key]))
    );
  }
  return left === right;
}

/** A KV v2 secret as it stands, for comparing with a history: live versions' data read. */
export interface ExistingHistory {
  readonly versions: readonly (VersionState & { readonly value?: SecretData })[];
}

/**
 * Whether a secret already holds exactly this history: same version numbers
 * and flags, same data in every live version. A deleted version's data
 * cannot be read without undeleting it (a write), so a history with one is
 * never taken as equal and is written again.
 */
export function sameHistory(secret: SecretHistory, existing: ExistingHistory): boolean {
  const padding = secret.first - 1;
  if (existing.versions.length !== padding + secret.versions.length) return false;
  return existing.versions.every((version, index) => {
    if (version.number !== index + 1) return false;
    if (index < padding) return version.destroyed;
    const wanted = secret.versions[index - padding] as SecretVersion;
    if (wanted.destroyed) return version.destroyed;
    if (wanted.deleted) return false;
    return (
      !version.deleted && !version.destroyed && sameData(version.value ?? {}, wanted.value ?? {})
    );
  });
}

/** What safe writes for a version it then destroys: the numbers must still count up. */
export const PLACEHOLDER: SecretData = { TO_DESTROY: "TO_DESTROY" };

export interface ReplayPlan {
  /** Written in order to a wiped secret: version 1, 2, ... */
  readonly writes: readonly SecretData[];
  readonly destroy: readonly number[];
  readonly delete: readonly number[];
}

/**
 * How a history is replayed into an empty KV v2 secret (safe's Copy with
 * Pad): versions before `first` and destroyed versions are written as a
 * placeholder and destroyed, deleted versions written and then deleted, so
 * every version keeps its number.
 */
export function replayPlan(secret: SecretHistory): ReplayPlan {
  const writes: SecretData[] = [];
  const destroy: number[] = [];
  const deleted: number[] = [];
  for (let number = 1; number < secret.first; number++) {
    writes.push(PLACEHOLDER);
    destroy.push(number);
  }
  secret.versions.forEach((version, index) => {
    const number = secret.first + index;
    if (version.destroyed) {
      writes.push(PLACEHOLDER);
      destroy.push(number);
      return;
    }
    writes.push(version.value ?? {});
    if (version.deleted) deleted.push(number);
  });
  return { writes, destroy, delete: deleted };
}

// ---------------------------------------------------------------- tree

interface TreeNode {
  readonly name: string;
  readonly children: TreeNode[];
}

const segments = (path: string) => `/${path}`.split("/");

/**
 * safe's printableTree: the first path decides the node (a secret if it
 * ends at this depth, else a folder, `name/`); the rest are grouped by their
 * next segment. A secret and the folder of the same name are two entries.
 */
function printable(paths: readonly string[], index: number): TreeNode {
  const first = segments(paths[0] as string);
  const isSecret = index === first.length - 1;
  const name = index === 0 ? "/" : (first[index] as string);
  const node: TreeNode = { name: isSecret ? name : `${name}/`, children: [] };
  let start = isSecret ? 1 : 0;
  while (start < paths.length) {
    const split = segments(paths[start] as string);
    if (split.length === index + 2) {
      node.children.push(printable([paths[start] as string], index + 1));
      start++;
      continue;
    }
    const group = split[index + 1];
    let end = start + 1;
    while (end < paths.length && segments(paths[end] as string)[index + 1] === group) end++;
    node.children.push(printable(paths.slice(start, end), index + 1));
    start = end;
  }
  return node;
}

function drawNode(node: TreeNode, prefix: string, last: boolean, lines: string[]): void {
  lines.push(`${prefix}${last ? "└── " : "├── "}${node.name}`);
  const inner = `${prefix}${last ? "    " : "│   "}`;
  for (const [index, child] of node.children.entries())
    drawNode(child, inner, index === node.children.length - 1, lines);
}

/**
 * `safe tree PATH...`, line for line: `.`, then each root with its secrets
 * (the root ends in `/` unless it is itself the only secret), and the blank
 * line safe ends with. Roots without secrets are left out; none at all
 * draws nothing.
 */
export function drawTree(roots: readonly { root: string; paths: readonly string[] }[]): string[] {
  const drawn = roots.filter((entry) => entry.paths.length > 0);
  if (drawn.length === 0) return [];
  const lines = ["."];
  drawn.forEach(({ root, paths }, index) => {
    const sorted = [...paths].map(canonicalPath).sort(comparePaths);
    const trimmed = canonicalPath(root);
    const depth = trimmed === "" ? 0 : trimmed.split("/").length;
    const tree = printable(sorted, depth);
    const name = trimmed === sorted[0] ? trimmed : `${trimmed}/`;
    drawNode({ ...tree, name }, "", index === drawn.length - 1, lines);
  });
  lines.push("");
  return lines;
}
