import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import {
  chmod,
  copyFile,
  type FileHandle,
  link,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  unlink,
} from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";
import { ConflictError } from "../../core/errors.js";
import { syncDir } from "./sync-dir.js";

export { acquireLock, type LockHolder, type LockResult } from "./lock-file.js";

/** What `sys/init` returned: the only copy of the cluster's keys. */
export interface StoredKeys {
  readonly keys: readonly string[];
  readonly keysBase64: readonly string[];
  readonly rootToken: string;
  readonly keyShares: number;
  readonly keyThreshold: number;
  readonly initializedAt: string;
  /**
   * Which storage these keys opened, e.g. "dynamodb-volume:vault-ha_dynamodb-data"
   * or "in-memory", so a set-aside file says what it belonged to. Absent in
   * files written before it existed.
   */
  readonly storage?: string;
  /**
   * How the cluster unseals: "shamir" (these are unseal keys) or "transit"
   * (these are recovery keys). Absent in files written before it existed,
   * which were all Shamir.
   */
  readonly sealType?: string;
}

/**
 * The per-project state folder, outside any repository by default:
 * $VAULT_HA_STATE_DIR, else $XDG_STATE_HOME/vault-ha, else
 * ~/.local/state/vault-ha; one folder per project, mode 0700.
 */
export function stateRoot(env: Readonly<Record<string, string | undefined>>): string {
  if (env.VAULT_HA_STATE_DIR) return path.resolve(env.VAULT_HA_STATE_DIR);
  const base = env.XDG_STATE_HOME || path.join(homedir(), ".local", "state");
  return path.join(base, "vault-ha");
}

export interface KeyStore {
  readonly dir: string;
  readonly keysFile: string;
  /** The stored keys, undefined when there are none; a damaged file is a ConflictError. */
  load(): Promise<StoredKeys | undefined>;
  /**
   * Run before `sys/init`: creates the folder (0700) and the file `save`
   * will write (0600), with room for the keys reserved and flushed to disk.
   * A read-only folder or a full disk fails here, before Vault hands out
   * the only copy of the keys. Calling it again reuses the same file.
   */
  prepare(): Promise<void>;
  /** Removes a prepared file that `save` never used (`sys/init` failed). */
  discardPrepared(): Promise<void>;
  /**
   * Writes the keys into the prepared file (preparing one if needed), flushes
   * it, renames it over init.json and flushes the folder. An init.json that
   * is already there is set aside first, never overwritten.
   */
  save(keys: StoredKeys): Promise<void>;
  /** @deprecated Same as prepare(); kept for callers written before it. */
  ensureWritable(): Promise<void>;
  /**
   * Moves init.json to a new init.json.<time>.old (the cluster it opened is
   * gone) and returns that path; never replaces an earlier one. Undefined
   * when there was no init.json.
   */
  setAside(): Promise<string | undefined>;
  /** Removes the whole project folder. */
  remove(): Promise<void>;
  exists(): Promise<boolean>;
}

/**
 * Bytes written into the prepared file to claim disk blocks before the keys
 * exist. init.json for 255 key shares (Vault's maximum) is about 33 KB.
 */
const RESERVED_BYTES = 64 * 1024;
const PREPARED_FILE = /^init\.json\.[0-9a-f]{16}\.tmp$/;
const UNUSED_PREPARED_AGE_MS = 60 * 60 * 1000;

const fail = (file: string, problem: string) =>
  // Never quote the content or the parser's message: the file holds secrets.
  new ConflictError(`${file} ${problem}; restore it from a backup, or start over`, [], {
    next: { kind: "reset" },
  });

/** Checks the shape without trusting it; old files without `storage` pass. */
function asStoredKeys(value: unknown): StoredKeys | undefined {
  if (value === null || typeof value !== "object") return undefined;
  const keys = value as Record<string, unknown>;
  const strings = (list: unknown) =>
    Array.isArray(list) && list.every((entry) => typeof entry === "string");
  const ok =
    strings(keys.keys) &&
    strings(keys.keysBase64) &&
    typeof keys.rootToken === "string" &&
    typeof keys.keyShares === "number" &&
    typeof keys.keyThreshold === "number" &&
    typeof keys.initializedAt === "string" &&
    (keys.storage === undefined || typeof keys.storage === "string") &&
    (keys.sealType === undefined || typeof keys.sealType === "string");
  return ok ? (value as StoredKeys) : undefined;
}

/**
 * Gives `from` the first free name among `base`, `base-2`, ... without ever
 * replacing a file: link() fails with EEXIST where rename() would overwrite.
 */
async function moveToFreeName(from: string, base: string, suffix: string): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const target = `${base}${attempt === 1 ? "" : `-${attempt}`}${suffix}`;
    try {
      await link(from, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EEXIST") continue;
      // A file system without hard links: an exclusive copy is just as safe.
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS") throw error;
      try {
        await copyFile(from, target, constants.COPYFILE_EXCL);
      } catch (copyError) {
        if ((copyError as NodeJS.ErrnoException).code === "EEXIST") continue;
        throw copyError;
      }
    }
    await unlink(from);
    return target;
  }
}

export function createKeyStore(root: string, project: string): KeyStore {
  const dir = path.join(root, project);
  const keysFile = path.join(dir, "init.json");
  let prepared: Promise<{ readonly file: string; readonly handle: FileHandle }> | undefined;

  const ensureDir = async () => {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // mkdir's mode is filtered by the umask and ignored for an existing folder.
    await chmod(dir, 0o700);
  };

  /**
   * Prepared files of earlier runs that never received keys: only the
   * reservation is in them, and they are old enough that no `up` (which
   * holds the project's lock while it initialises) is still using them.
   */
  const removeUnusedPrepared = async () => {
    for (const name of await readdir(dir)) {
      if (!PREPARED_FILE.test(name)) continue;
      const file = path.join(dir, name);
      const info = await stat(file).catch(() => undefined);
      if (!info || Date.now() - info.mtimeMs < UNUSED_PREPARED_AGE_MS) continue;
      const content = await readFile(file).catch(() => undefined);
      // A file with anything else in it may hold keys from an interrupted save: it stays.
      if (content?.every((byte) => byte === 0x0a)) await rm(file, { force: true });
    }
  };

  const createPrepared = async () => {
    await ensureDir();
    await removeUnusedPrepared();
    const file = path.join(dir, `init.json.${randomBytes(8).toString("hex")}.tmp`);
    // Exclusive and 0600 from the start: the keys are never readable by others.
    const handle = await open(file, "wx", 0o600);
    try {
      await handle.chmod(0o600);
      await handle.write(Buffer.alloc(RESERVED_BYTES, 0x0a), 0, RESERVED_BYTES, 0);
      await handle.sync();
      await syncDir(dir);
    } catch (error) {
      await handle.close();
      await rm(file, { force: true });
      throw error;
    }
    return { file, handle };
  };

  const store: KeyStore = {
    dir,
    keysFile,
    async load() {
      let text: string;
      try {
        text = await readFile(keysFile, "utf8");
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") return undefined;
        throw new ConflictError(
          `cannot read ${keysFile} (${code ?? "unknown error"}); check its owner and permissions (it should be yours, mode 0600)`,
        );
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw fail(keysFile, "is not valid JSON");
      }
      const keys = asStoredKeys(parsed);
      if (!keys) throw fail(keysFile, "is not a vault-ha keys file (fields are missing)");
      return keys;
    },
    async prepare() {
      // One promise, so calls that overlap share one file. Nothing is lost
      // yet when this fails, so it is a plain "fix this and retry".
      prepared ??= createPrepared().catch((error: NodeJS.ErrnoException) => {
        throw new ConflictError(
          `cannot write the keys file in ${dir} (${error.code ?? error.message}); free disk space or fix the folder's permissions`,
          [],
          { next: { kind: "up" } },
        );
      });
      await prepared.catch((error: unknown) => {
        prepared = undefined;
        throw error;
      });
    },
    async discardPrepared() {
      const pending = prepared;
      prepared = undefined;
      const current = await pending?.catch(() => undefined);
      if (!current) return;
      await current.handle.close();
      await rm(current.file, { force: true });
    },
    async save(keys) {
      await store.prepare();
      const current = await (prepared as NonNullable<typeof prepared>);
      prepared = undefined;
      const bytes = Buffer.from(`${JSON.stringify(keys, null, 2)}\n`);
      try {
        // Into the blocks prepare() reserved, then cut off the rest of the reservation.
        await current.handle.write(bytes, 0, bytes.length, 0);
        await current.handle.truncate(bytes.length);
        await current.handle.sync();
      } finally {
        await current.handle.close();
      }
      // The file with the keys stays where it is if anything below fails.
      const earlier = await stat(keysFile).then(
        () => true,
        () => false,
      );
      if (earlier) await store.setAside();
      await rename(current.file, keysFile);
      await syncDir(dir);
    },
    ensureWritable: () => store.prepare(),
    async setAside() {
      const stamp = new Date().toISOString().replaceAll(":", "-");
      try {
        const target = await moveToFreeName(keysFile, `${keysFile}.${stamp}`, ".old");
        await syncDir(dir);
        return target;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw error;
      }
    },
    async remove() {
      await store.discardPrepared();
      await rm(dir, { recursive: true, force: true });
    },
    exists: () =>
      stat(dir).then(
        () => true,
        () => false,
      ),
  };
  return store;
}
