import { randomBytes } from "node:crypto";
import { link, mkdir, open, rename, rm } from "node:fs/promises";
import { hostname } from "node:os";
import path from "node:path";
import { processIsAlive } from "../process-alive.js";

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
  return holder.host === hostname() && !processIsAlive(holder.pid);
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
