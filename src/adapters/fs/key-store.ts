import { constants } from "node:fs";
import { chmod, mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import path from "node:path";

/** What `sys/init` returned: the only copy of the cluster's keys. */
export interface StoredKeys {
  readonly keys: readonly string[];
  readonly keysBase64: readonly string[];
  readonly rootToken: string;
  readonly keyShares: number;
  readonly keyThreshold: number;
  readonly initializedAt: string;
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
  load(): Promise<StoredKeys | undefined>;
  save(keys: StoredKeys): Promise<void>;
  /** Creates the folder (0700) and proves a file can be written there. */
  ensureWritable(): Promise<void>;
  /** Renames the keys file to init.json.old (the cluster they opened is gone). */
  setAside(): Promise<void>;
  /** Removes the whole project folder. */
  remove(): Promise<void>;
  exists(): Promise<boolean>;
}

export function createKeyStore(root: string, project: string): KeyStore {
  const dir = path.join(root, project);
  const keysFile = path.join(dir, "init.json");
  const ensureDir = async () => {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // mkdir's mode is filtered by the umask and ignored for an existing folder.
    await chmod(dir, 0o700);
  };
  return {
    dir,
    keysFile,
    async load() {
      const text = await readFile(keysFile, "utf8").catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") return undefined;
        throw error;
      });
      return text === undefined ? undefined : (JSON.parse(text) as StoredKeys);
    },
    async save(keys) {
      await ensureDir();
      const temporary = `${keysFile}.${process.pid}.tmp`;
      // Created 0600 from the start, so the keys are never readable by others.
      await writeFile(temporary, `${JSON.stringify(keys, null, 2)}\n`, { mode: 0o600, flag: "wx" });
      await rename(temporary, keysFile);
    },
    async ensureWritable() {
      await ensureDir();
      const probe = path.join(dir, `.probe-${process.pid}`);
      await writeFile(probe, "", { mode: 0o600 });
      await rm(probe);
    },
    async setAside() {
      await rename(keysFile, `${keysFile}.old`);
    },
    remove: () => rm(dir, { recursive: true, force: true }),
    exists: () =>
      stat(dir).then(
        () => true,
        () => false,
      ),
  };
}

/** An exclusive lock file; a lock left by a dead process is taken over. */
export async function acquireLock(
  file: string,
): Promise<{ release(): Promise<void> } | { heldBy: number }> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(
        file,
        constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY,
        0o600,
      );
      await handle.writeFile(String(process.pid));
      await handle.close();
      return { release: () => rm(file, { force: true }) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number.parseInt(await readFile(file, "utf8").catch(() => ""), 10);
      if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) return { heldBy: holder };
      await rm(file, { force: true });
    }
  }
  return { heldBy: -1 };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
