import type { VaultApi } from "../adapters/vault/vault-api.js";
import { ConflictError } from "../core/errors.js";
import {
  comparePaths,
  describeVersions,
  type ExistingHistory,
  isAlive,
  type KvMetadata,
  type KvMount,
  kvApiPath,
  kvMounts,
  type MountInfo,
  metadataFromAnswer,
  mountsFromSysMounts,
  planImport,
  renderSafeV1,
  renderSafeV2,
  replayPlan,
  type SecretData,
  type SecretHistory,
  type SecretsFile,
  type SecretsFormat,
  type SecretVersion,
  sameData,
  sameHistory,
  secretDataFromAnswer,
  type WalkRoot,
  walkRoots,
} from "../core/secret-formats.js";
import { waitFor } from "./wait.js";

// KV secrets out of Vault and back in, through a VaultApi (the active node,
// a token): walking mounts, reading every version, replaying histories.
// Which format, which mount, what to write: core/secret-formats.ts.

/**
 * At most `size` calls at once: a big tree is walked with a few requests in
 * flight, not thousands. Only leaf calls go through it (a task that waited
 * for another inside would deadlock).
 */
function limiter(size: number) {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active < size) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

const IN_FLIGHT = 8;

export async function readMounts(api: VaultApi): Promise<MountInfo[]> {
  return mountsFromSysMounts((await api.read("sys/mounts")) ?? {});
}

/**
 * Every secret under a root, relative to its mount: the root itself if it
 * is a secret, then everything listed under `root/`. KV v2 lists metadata,
 * so a secret whose versions are all deleted is listed too.
 */
async function listSecrets(
  api: VaultApi,
  root: WalkRoot,
  call: ReturnType<typeof limiter>,
): Promise<string[]> {
  const { mount, sub } = root;
  const found: string[] = [];
  if (sub !== "") {
    const self = await call(() =>
      api.read(kvApiPath(mount, mount.version === 2 ? "metadata" : "data", sub)),
    );
    if (self) found.push(sub);
  }
  const walk = async (folder: string): Promise<void> => {
    const keys = await call(() => api.list(kvApiPath(mount, "metadata", folder)));
    await Promise.all(
      keys.map(async (key) => {
        const rel = folder === "" ? key : `${folder}/${key}`;
        if (key.endsWith("/")) await walk(rel.slice(0, -1));
        else found.push(rel);
      }),
    );
  };
  await walk(sub);
  return found;
}

/** Every secret the roots hold, each once, with its mount. */
async function secretsUnder(api: VaultApi, roots: readonly WalkRoot[]) {
  const call = limiter(IN_FLIGHT);
  const lists = await Promise.all(roots.map((root) => listSecrets(api, root, call)));
  const unique = new Map<string, { mount: KvMount; rel: string }>();
  roots.forEach((root, index) => {
    for (const rel of lists[index] ?? [])
      unique.set(`${root.mount.path}${rel}`, { mount: root.mount, rel });
  });
  return { call, secrets: [...unique].map(([path, where]) => ({ path, ...where })) };
}

const readMetadata = async (
  api: VaultApi,
  mount: KvMount,
  rel: string,
): Promise<KvMetadata | undefined> => {
  const answer = await api.read(kvApiPath(mount, "metadata", rel));
  return answer ? metadataFromAnswer(answer, new Date()) : undefined;
};

/** The current value; undefined when absent, or deleted or destroyed (KV v2). */
async function readLatest(api: VaultApi, mount: KvMount, rel: string) {
  const answer = await api.read(kvApiPath(mount, "data", rel));
  return answer ? secretDataFromAnswer(answer, mount.version) : undefined;
}

const readVersion = async (api: VaultApi, mount: KvMount, rel: string, version: number) => {
  const answer = await api.read(`${kvApiPath(mount, "data", rel)}?version=${version}`);
  return answer ? secretDataFromAnswer(answer, 2) : undefined;
};

/**
 * Every version of a secret. A deleted version can only be read undeleted,
 * so it is undeleted, read and deleted again, as `safe export -d` does (its
 * deletion time becomes now); a destroyed one has nothing to read.
 */
async function readHistory(
  api: VaultApi,
  mount: KvMount,
  rel: string,
  path: string,
): Promise<SecretHistory | undefined> {
  if (mount.version === 1) {
    const value = await readLatest(api, mount, rel);
    return value ? { path, first: 1, versions: [{ value }] } : undefined;
  }
  const metadata = await readMetadata(api, mount, rel);
  const first = metadata?.versions[0]?.number;
  if (!metadata || first === undefined) return undefined;
  const versions: SecretVersion[] = [];
  for (const state of metadata.versions) {
    if (state.destroyed) {
      versions.push({ destroyed: true });
      continue;
    }
    if (!state.deleted) {
      const value = await readVersion(api, mount, rel, state.number);
      if (!value) {
        throw new ConflictError(
          `${path} version ${state.number} went away during the export; export again`,
        );
      }
      versions.push({ value });
      continue;
    }
    const body = { versions: [state.number] };
    await api.write(kvApiPath(mount, "undelete", rel), body);
    let value: SecretData | undefined;
    try {
      value = await readVersion(api, mount, rel, state.number);
    } finally {
      await api.write(kvApiPath(mount, "delete", rel), body);
    }
    versions.push({ value: value ?? {}, deleted: true });
  }
  return { path, first, versions };
}

export interface ExportResult {
  readonly format: Extract<SecretsFormat, "safe-v1" | "safe-v2">;
  readonly text: string;
  readonly secrets: number;
  readonly versions: number;
  /** The KV mounts walked. */
  readonly mounts: readonly string[];
}

/**
 * Exports the secrets under `paths` (every KV mount when none): the latest
 * live version of each in safe's v1 format, or with `allVersions` every
 * version in safe's v2 format. Secrets whose latest version is deleted or
 * destroyed are left out of v1, as safe leaves them out.
 */
export async function exportSecrets(
  api: VaultApi,
  paths: readonly string[],
  options: { readonly allVersions?: boolean } = {},
): Promise<ExportResult> {
  const mounts = kvMounts(await readMounts(api));
  const roots = walkRoots(paths, mounts);
  const { call, secrets } = await secretsUnder(api, roots);
  const read = await Promise.all(
    secrets.map(({ path, mount, rel }) =>
      options.allVersions
        ? call(() => readHistory(api, mount, rel, path))
        : call(async () => {
            const value = await readLatest(api, mount, rel);
            return value ? { path, first: 1, versions: [{ value }] } : undefined;
          }),
    ),
  );
  const histories = read.filter((history): history is SecretHistory => history !== undefined);
  const walked = [...new Set(roots.map((root) => root.mount.path))];
  return {
    format: options.allVersions ? "safe-v2" : "safe-v1",
    text: options.allVersions ? renderSafeV2(histories, mounts) : renderSafeV1(histories),
    secrets: histories.length,
    versions: histories.reduce((sum, history) => sum + history.versions.length, 0),
    mounts: walked,
  };
}

/**
 * The live secrets under each root (every KV mount when no path is given),
 * as full paths: what `safe tree` shows, so a KV v2 secret whose current
 * version is deleted or destroyed is left out.
 */
export async function secretsTree(
  api: VaultApi,
  paths: readonly string[],
): Promise<{ root: string; paths: string[] }[]> {
  const mounts = kvMounts(await readMounts(api));
  const roots = walkRoots(paths, mounts);
  const call = limiter(IN_FLIGHT);
  return Promise.all(
    roots.map(async (root) => {
      const rels = await listSecrets(api, root, call);
      const alive = await Promise.all(
        rels.map(async (rel) => {
          if (root.mount.version === 1) return true;
          const metadata = await call(() => readMetadata(api, root.mount, rel));
          return metadata !== undefined && isAlive(metadata);
        }),
      );
      return {
        root: `${root.mount.path}${root.sub}`,
        paths: rels
          .filter((_, index) => alive[index])
          .map((rel) => `${root.mount.path}${rel}`)
          .sort(comparePaths),
      };
    }),
  );
}

export type ImportAction = "write" | "replace" | "unchanged";

export interface ImportedSecret {
  readonly path: string;
  /** write: new (or a new version of the latest value); replace: history rewritten; unchanged. */
  readonly action: ImportAction;
  /** Versions written (or that would be): counts, never values. */
  readonly versions: string;
}

export interface ImportReport {
  readonly format: SecretsFormat;
  readonly dryRun: boolean;
  readonly mounted: readonly KvMount[];
  readonly secrets: readonly ImportedSecret[];
}

/** A KV v2 secret as it stands, with its live versions' data, for sameHistory. */
async function existingHistory(
  api: VaultApi,
  mount: KvMount,
  rel: string,
  metadata: KvMetadata,
): Promise<ExistingHistory> {
  const versions = [];
  for (const state of metadata.versions) {
    const live = !state.deleted && !state.destroyed;
    const value = live ? await readVersion(api, mount, rel, state.number) : undefined;
    versions.push({ ...state, ...(value ? { value } : {}) });
  }
  return { versions };
}

/** Whether a secret is replayed as a whole history (safe v2 into KV v2), else written as one value. */
const replays = (file: SecretsFile, mount: KvMount) => file.versioned && mount.version === 2;

async function decide(
  api: VaultApi,
  file: SecretsFile,
  mount: KvMount,
  rel: string,
  secret: SecretHistory,
  mountExists: boolean,
): Promise<ImportAction> {
  if (!mountExists) return "write";
  if (!replays(file, mount)) {
    const current = await readLatest(api, mount, rel);
    const wanted = secret.versions.at(-1)?.value ?? {};
    return current !== undefined && sameData(current, wanted) ? "unchanged" : "write";
  }
  const metadata = await readMetadata(api, mount, rel);
  if (!metadata || metadata.versions.length === 0) return "write";
  if (metadata.versions.length !== secret.first - 1 + secret.versions.length) return "replace";
  const existing = await existingHistory(api, mount, rel, metadata);
  return sameHistory(secret, existing) ? "unchanged" : "replace";
}

/** A new KV v2 mount answers "upgrading" for a moment; its first write must wait for that. */
async function waitForMount(api: VaultApi, mount: KvMount, budgetMs: number): Promise<void> {
  await waitFor(`KV mount ${mount.path} to answer`, budgetMs, async () => {
    try {
      await api.read(kvApiPath(mount, "data", "vault-ha-mount-probe"));
      return { done: true, value: undefined };
    } catch (error) {
      return { done: false, last: (error as Error).message };
    }
  });
}

async function writeVersion(
  api: VaultApi,
  mount: KvMount,
  rel: string,
  data: SecretData,
  expected: number,
  path: string,
) {
  const answer = await api.write(kvApiPath(mount, "data", rel), { data });
  const version = (answer.data as { version?: unknown } | undefined)?.version;
  // Someone else writing the same secret would shift every later number.
  if (version !== expected) {
    throw new ConflictError(
      `${path} got version ${String(version)} where ${expected} was due; something else writes it: stop that and import again`,
    );
  }
}

async function replay(
  api: VaultApi,
  mount: KvMount,
  rel: string,
  secret: SecretHistory,
  action: ImportAction,
) {
  const plan = replayPlan(secret);
  // The history is rewritten from version 1: the old one goes first.
  if (action === "replace") await api.delete(kvApiPath(mount, "metadata", rel));
  for (const [index, data] of plan.writes.entries())
    await writeVersion(api, mount, rel, data, index + 1, secret.path);
  if (plan.destroy.length > 0)
    await api.write(kvApiPath(mount, "destroy", rel), { versions: plan.destroy });
  if (plan.delete.length > 0)
    await api.write(kvApiPath(mount, "delete", rel), { versions: plan.delete });
}

/**
 * Imports a parsed file: mounts what is missing (KV v2 unless the file asks
 * for v1), then per secret writes the latest value where it differs from
 * what is there (safe v1, vkv), or replays the whole history where it is not
 * already exactly there (safe v2 into KV v2). `dryRun` reads and reports
 * what would be done, and writes nothing.
 */
export async function importSecrets(
  api: VaultApi,
  file: SecretsFile,
  options: { readonly dryRun?: boolean; readonly mountBudgetMs?: number } = {},
): Promise<ImportReport> {
  const plan = planImport(file, await readMounts(api));
  const created = new Set(plan.create.map((mount) => mount.path));
  const call = limiter(IN_FLIGHT);
  const actions = await Promise.all(
    plan.targets.map(({ secret, mount, rel }) =>
      call(() => decide(api, file, mount, rel, secret, !created.has(mount.path))),
    ),
  );
  const decided = plan.targets.map((target, index) => ({
    ...target,
    action: actions[index] as ImportAction,
  }));
  const secrets = decided.map(({ secret, mount, action }) => ({
    path: secret.path,
    action,
    versions: replays(file, mount) ? describeVersions(secret) : "1 version",
  }));
  const report = { format: file.format, dryRun: options.dryRun === true, mounted: plan.create };
  if (options.dryRun) return { ...report, secrets };
  for (const mount of plan.create) {
    await api.write(`sys/mounts/${mount.path.slice(0, -1)}`, {
      type: "kv",
      options: { version: String(mount.version) },
    });
    await waitForMount(api, mount, options.mountBudgetMs ?? 30_000);
  }
  await Promise.all(
    decided.map(({ secret, mount, rel, action }) =>
      call(async () => {
        if (action === "unchanged") return;
        if (replays(file, mount)) return replay(api, mount, rel, secret, action);
        const data = secret.versions.at(-1)?.value ?? {};
        await api.write(kvApiPath(mount, "data", rel), mount.version === 2 ? { data } : data);
      }),
    ),
  );
  return { ...report, secrets };
}
