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
import { homedir, hostname } from "node:os";
import path from "node:path";
import { ConflictError } from "../../core/errors.js";

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
  new ConflictError(
    `${file} ${problem}; restore it from a backup, or run vault-ha reset to start a fresh cluster (this deletes its data)`,
  );

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
    (keys.storage === undefined || typeof keys.storage === "string");
  return ok ? (value as StoredKeys) : undefined;
}

/** Makes a rename or link durable. Some platforms cannot open a folder for fsync. */
async function syncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "EINVAL" && code !== "EPERM") throw error;
  } finally {
    await handle?.close();
  }
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
          `cannot write the keys file in ${dir} (${error.code ?? error.message}); free disk space or fix the folder's permissions, then run vault-ha up again`,
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

/** Who holds a lock, as its file says. */
export interface LockHolder {
  readonly pid: number;
  readonly host: string;
  /** When the holding process started (ISO); absent in locks of older versions. */
  readonly startedAt?: string;
}

export type LockResult =
  | { readonly file: string; release(): Promise<void> }
  | {
      readonly file: string;
      /** The holder's pid, or -1 when the lock file says nothing readable. */
      readonly heldBy: number;
      readonly holder?: LockHolder;
    };

/** A lock whose content cannot be read is taken over after this long (it is not being written). */
const UNREADABLE_LOCK_GRACE_MS = 5_000;
/** A takeover guard this old belongs to a process that died in the middle of a takeover. */
const TAKEOVER_GUARD_STALE_MS = 10_000;

interface LockRecord extends LockHolder {
  readonly token: string;
}

interface ObservedLock {
  readonly content: string;
  readonly ino: number;
  readonly ageMs: number;
}

const processStartedAt = () => new Date(Date.now() - process.uptime() * 1000).toISOString();

async function observe(file: string): Promise<ObservedLock | undefined> {
  try {
    const handle = await open(file, "r");
    try {
      const [content, info] = await Promise.all([handle.readFile("utf8"), handle.stat()]);
      return { content, ino: info.ino, ageMs: Date.now() - info.mtimeMs };
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/**
 * Creates `target` with `content` only if it does not exist: a hard link to
 * the complete temporary file, so nobody ever reads it half-written. A file
 * system without hard links gets an exclusive create and write instead (a
 * reader may then briefly see it empty, which counts as held while fresh).
 */
async function createExclusive(target: string, temporary: string, content: string): Promise<void> {
  try {
    await link(temporary, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "ENOSYS") throw error;
    const handle = await open(target, "wx", 0o600);
    try {
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
  }
}

/** The holder a lock file names; version 1 locks held only a pid. */
function holderOf(content: string): LockHolder | undefined {
  if (/^\d+$/.test(content.trim())) return { pid: Number(content.trim()), host: hostname() };
  try {
    const record = JSON.parse(content) as Partial<LockRecord>;
    if (Number.isInteger(record.pid) && typeof record.host === "string") {
      return {
        pid: record.pid as number,
        host: record.host,
        ...(typeof record.startedAt === "string" ? { startedAt: record.startedAt } : {}),
      };
    }
  } catch {
    // Garbage: no holder.
  }
  return undefined;
}

/**
 * Stale: its holder is a dead process on this host, or it says nothing
 * readable and is old enough not to be mid-write by an older vault-ha (this
 * version's locks are complete before they appear). A lock from another host
 * (a shared home folder) cannot be checked and counts as held.
 */
function isStale(lock: ObservedLock): boolean {
  const holder = holderOf(lock.content);
  if (!holder) return lock.ageMs > UNREADABLE_LOCK_GRACE_MS;
  return holder.host === hostname() && !isAlive(holder.pid);
}

/**
 * An exclusive lock file. It appears complete: the record (pid, host, start
 * time, a random token) is written to a temporary file first and then
 * link()ed to the lock name, which fails with EEXIST if the lock exists.
 * `release()` removes the file only while it still holds our record.
 */
export async function acquireLock(file: string): Promise<LockResult> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const record: LockRecord = {
    pid: process.pid,
    host: hostname(),
    startedAt: processStartedAt(),
    token: randomBytes(8).toString("hex"),
  };
  const content = `${JSON.stringify(record)}\n`;
  const temporary = `${file}.${record.token}.tmp`;
  await open(temporary, "wx", 0o600).then(async (handle) => {
    try {
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
  });
  const acquired = {
    file,
    async release() {
      // Only our own lock: after a takeover the file is someone else's.
      const current = await observe(file);
      if (current?.content === content) await rm(file, { force: true });
    },
  };
  try {
    let last: ObservedLock | undefined;
    for (let attempt = 0; attempt < 20; attempt++) {
      try {
        await createExclusive(file, temporary, content);
        return acquired;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      }
      last = await observe(file);
      if (last === undefined) continue; // released in between: try again
      if (!isStale(last)) break;
      const outcome = await takeOver(file, last, temporary, content);
      if (outcome === "taken") return acquired;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const holder = last && holderOf(last.content);
    return { file, heldBy: holder?.pid ?? -1, ...(holder ? { holder } : {}) };
  } finally {
    await rm(temporary, { force: true });
  }
}

/**
 * Replaces a stale lock with ours. The race this closes: A and B both find
 * the same stale lock; A replaces it, then B, still acting on what it read
 * before, replaces A's fresh lock, and both believe they hold it. So takers
 * first take a guard file (link, EEXIST-atomic), then re-read the lock and
 * replace it (rename, atomic) only if it is still the very file they judged
 * stale (same inode, same content). Only one taker at a time gets that far,
 * and an ordinary acquirer cannot slip in, since the lock name never stops
 * existing. A guard left by a taker that died mid-takeover is removed after
 * TAKEOVER_GUARD_STALE_MS; a taker frozen for longer than that could still
 * collide, which we accept for a local developer tool.
 */
async function takeOver(
  file: string,
  stale: ObservedLock,
  temporary: string,
  content: string,
): Promise<"taken" | "retry"> {
  const guard = `${file}.takeover`;
  try {
    await createExclusive(guard, temporary, content);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    const other = await observe(guard);
    if (other && other.ageMs > TAKEOVER_GUARD_STALE_MS) await rm(guard, { force: true });
    return "retry";
  }
  try {
    const now = await observe(file);
    if (now === undefined || now.ino !== stale.ino || now.content !== stale.content) return "retry";
    // rename() moves our temporary file's name over the stale lock in one step.
    await rename(temporary, file);
    return "taken";
  } finally {
    await rm(guard, { force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
