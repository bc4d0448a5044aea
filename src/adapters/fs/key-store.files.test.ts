import { execFile } from "node:child_process";
import { existsSync, readdirSync, readlinkSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from "node:fs/promises";
import { homedir, hostname, tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { storedKeys } from "../../../test/support/stored-keys.js";
import { ConflictError } from "../../core/errors.js";
import { acquireLock, createKeyStore, stateRoot } from "./key-store.js";

/**
 * The key store's edges: where the state lives, which files count as keys,
 * how set-aside files are named, which leftovers are swept, that no file
 * descriptor outlives a call, and how lock files of every vintage are read.
 */

const keys = storedKeys();

/** A pid that certainly belonged to a process that has exited. */
async function deadPid(): Promise<number> {
  const child = execFile(process.execPath, ["-e", ""]);
  await new Promise((resolve) => child.on("exit", resolve));
  return child.pid as number;
}

/** Files under `dir` that this process still has open (Linux). */
function openFilesUnder(dir: string): string[] {
  const open: string[] = [];
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir)) open.push(target);
    } catch {
      // Closed while listing (readdirSync's own descriptor).
    }
  }
  return open;
}

const NOW = new Date("2026-11-30T10:00:00.000Z");
/** Freezes Date (not timers: the lock's retry sleeps and the fs stay real). */
const freezeDate = () => {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(NOW);
};
const ago = (ms: number) => new Date(NOW.getTime() - ms);

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "vault-ha-key-store-files-"));
});
afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  await rm(root, { recursive: true, force: true });
});

describe("stateRoot", () => {
  it("VAULT_HA_STATE_DIR first, made absolute", () => {
    expect(stateRoot({ VAULT_HA_STATE_DIR: "rel/state", XDG_STATE_HOME: "/xdg" })).toBe(
      path.resolve("rel/state"),
    );
  });

  it("then $XDG_STATE_HOME/vault-ha", () => {
    expect(stateRoot({ XDG_STATE_HOME: "/xdg" })).toBe("/xdg/vault-ha");
  });

  it("then ~/.local/state/vault-ha, also when the variables are empty", () => {
    const home = path.join(homedir(), ".local", "state", "vault-ha");
    expect(stateRoot({})).toBe(home);
    expect(stateRoot({ VAULT_HA_STATE_DIR: "", XDG_STATE_HOME: "" })).toBe(home);
  });
});

describe("loading keys", () => {
  const store = () => createKeyStore(root, "demo");
  const writeKeys = async (content: string) => {
    await mkdir(store().dir, { recursive: true });
    await writeFile(store().keysFile, content);
  };

  it.each([
    ["null", null],
    ["a number", 42],
    ["a list", [keys]],
    ["keys missing", { ...keys, keys: undefined }],
    ["a key that is not a string", { ...keys, keys: ["a1", 2] }],
    ["keys that are not a list", { ...keys, keys: "a1" }],
    ["a base64 key that is not a string", { ...keys, keysBase64: ["oQ==", null] }],
    ["a root token that is not a string", { ...keys, rootToken: 7 }],
    ["keyShares that is not a number", { ...keys, keyShares: "3" }],
    ["keyThreshold that is not a number", { ...keys, keyThreshold: "2" }],
    ["initializedAt that is not a string", { ...keys, initializedAt: 0 }],
    ["storage that is not a string", { ...keys, storage: { kind: "volume" } }],
  ])("a file holding %s is not a keys file", async (_, value) => {
    await writeKeys(JSON.stringify(value));
    await expect(store().load()).rejects.toThrow(
      new ConflictError(
        `${store().keysFile} is not a vault-ha keys file (fields are missing); restore it from a backup, or start over`,
        [],
        { next: { kind: "reset" } },
      ),
    );
  });

  it("a keys file with a storage field and with none both load", async () => {
    await writeKeys(JSON.stringify({ ...keys, storage: "in-memory" }));
    expect(await store().load()).toEqual({ ...keys, storage: "in-memory" });
    await writeKeys(JSON.stringify(keys));
    expect(await store().load()).toEqual(keys);
  });

  it("a keys file that cannot be read is a conflict naming the error, not 'no keys'", async () => {
    await mkdir(store().keysFile, { recursive: true });
    const error = await store()
      .load()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toBe(
      `cannot read ${store().keysFile} (EISDIR); check its owner and permissions (it should be yours, mode 0600)`,
    );
  });

  it("no file, no keys", async () => {
    expect(await store().load()).toBeUndefined();
  });
});

describe("the project folder", () => {
  it("exists() after a save, not before; remove() deletes it with everything in it", async () => {
    const store = createKeyStore(root, "demo");
    expect(await store.exists()).toBe(false);
    await store.save(keys);
    await writeFile(path.join(store.dir, "compose.generated.yml"), "services: {}\n");
    expect(await store.exists()).toBe(true);
    await store.remove();
    expect(await store.exists()).toBe(false);
    expect(await readdir(root)).toEqual([]);
  });

  it("remove() also discards a prepared file and works on a store that never wrote", async () => {
    const store = createKeyStore(root, "demo");
    await store.remove();
    await store.prepare();
    await store.remove();
    expect(await readdir(root)).toEqual([]);
    expect(openFilesUnder(root)).toEqual([]);
  });

  it("discardPrepared() with nothing prepared does nothing", async () => {
    const store = createKeyStore(root, "demo");
    await expect(store.discardPrepared()).resolves.toBeUndefined();
    expect(await readdir(root)).toEqual([]);
  });

  it("ensureWritable() prepares the file like prepare()", async () => {
    const store = createKeyStore(root, "demo");
    await store.ensureWritable();
    expect(await readdir(store.dir)).toEqual([
      expect.stringMatching(/^init\.json\.[0-9a-f]{16}\.tmp$/),
    ]);
    await store.discardPrepared();
    expect(await readdir(store.dir)).toEqual([]);
  });

  it("a folder that cannot be created: one line with the error code and the next step", async () => {
    await writeFile(path.join(root, "blocked"), "");
    const store = createKeyStore(root, "blocked");
    await expect(store.prepare()).rejects.toThrow(
      new ConflictError(
        `cannot write the keys file in ${store.dir} (EEXIST); free disk space or fix the folder's permissions`,
        [],
        { next: { kind: "up" } },
      ),
    );
    // A failed prepare leaves nothing half-done behind, and can be retried.
    await expect(store.discardPrepared()).resolves.toBeUndefined();
    await rm(path.join(root, "blocked"));
    await store.prepare();
    expect(await readdir(store.dir)).toHaveLength(1);
    await store.discardPrepared();
  });

  it("no call leaves a file descriptor open", async () => {
    const store = createKeyStore(root, "demo");
    await store.save(keys);
    await store.load();
    await store.save({ ...keys, rootToken: "second" });
    await store.setAside();
    await store.prepare();
    await store.discardPrepared();
    const lockFile = path.join(root, "demo", "up.lock");
    const lock = await acquireLock(lockFile);
    await acquireLock(lockFile);
    if ("release" in lock) await lock.release();
    expect(openFilesUnder(root)).toEqual([]);
  });
});

describe("setting keys aside", () => {
  it("names the file after the time, then -2, -3 within the same millisecond", async () => {
    freezeDate();
    const store = createKeyStore(root, "demo");
    const names: (string | undefined)[] = [];
    for (let round = 0; round < 3; round++) {
      await store.save({ ...keys, rootToken: `root-${round}` });
      names.push(await store.setAside());
    }
    const base = `${store.keysFile}.2026-11-30T10-00-00.000Z`;
    expect(names).toEqual([`${base}.old`, `${base}-2.old`, `${base}-3.old`]);
    expect(JSON.parse(await readFile(`${base}-2.old`, "utf8")).rootToken).toBe("root-1");
    expect((await readdir(store.dir)).sort()).toEqual([
      "init.json.2026-11-30T10-00-00.000Z-2.old",
      "init.json.2026-11-30T10-00-00.000Z-3.old",
      "init.json.2026-11-30T10-00-00.000Z.old",
    ]);
  });

  it("save() over existing keys sets the old ones aside under that name", async () => {
    freezeDate();
    const store = createKeyStore(root, "demo");
    await store.save({ ...keys, rootToken: "first" });
    await store.save({ ...keys, rootToken: "second" });
    expect(
      JSON.parse(await readFile(`${store.keysFile}.2026-11-30T10-00-00.000Z.old`, "utf8"))
        .rootToken,
    ).toBe("first");
  });
});

describe("sweeping prepared files of earlier runs", () => {
  const prepared = (dir: string, name: string) => path.join(dir, `init.json.${name}.tmp`);
  const oldFile = async (file: string, content: string, age = 2 * 3_600_000) => {
    await writeFile(file, content);
    await utimes(file, ago(age), ago(age));
  };

  it("only files named like a prepared file, only when all newlines, only when an hour old", async () => {
    freezeDate();
    const store = createKeyStore(root, "demo");
    await mkdir(store.dir, { recursive: true });
    await oldFile(prepared(store.dir, "00000000000000aa"), "\n\n\n");
    await oldFile(prepared(store.dir, "00000000000000bb"), "\n\n\n", 3_600_000);
    await oldFile(prepared(store.dir, "00000000000000cc"), "\n\n\n", 3_599_000);
    await oldFile(prepared(store.dir, "00000000000000dd"), '\n{"keys": [');
    await oldFile(path.join(store.dir, "notes.tmp"), "\n\n");
    await oldFile(path.join(store.dir, "init.json.0000.tmp"), "\n\n");
    // A folder with a prepared file's name cannot be read: it stays, and is no error.
    await mkdir(prepared(store.dir, "00000000000000ee"));
    await utimes(prepared(store.dir, "00000000000000ee"), ago(7_200_000), ago(7_200_000));
    await store.prepare();
    const names = await readdir(store.dir);
    expect(names).not.toContain("init.json.00000000000000aa.tmp");
    expect(names).not.toContain("init.json.00000000000000bb.tmp");
    expect(names).toEqual(
      expect.arrayContaining([
        "init.json.00000000000000cc.tmp",
        "init.json.00000000000000dd.tmp",
        "notes.tmp",
        "init.json.0000.tmp",
        "init.json.00000000000000ee.tmp",
      ]),
    );
    expect(names).toHaveLength(6);
    await store.discardPrepared();
  });
});

describe("lock files", () => {
  const lockFile = () => path.join(root, "demo", "up.lock");
  const writeLock = async (content: string) => {
    await mkdir(path.dirname(lockFile()), { recursive: true });
    await writeFile(lockFile(), content);
  };

  it("names the running process as its holder, started when this process started", async () => {
    const before = Date.now() - process.uptime() * 1000;
    const lock = await acquireLock(lockFile());
    const after = Date.now() - process.uptime() * 1000;
    const record = JSON.parse(await readFile(lockFile(), "utf8"));
    expect(record.pid).toBe(process.pid);
    expect(record.host).toBe(hostname());
    expect(record.token).toMatch(/^[0-9a-f]{16}$/);
    const started = Date.parse(record.startedAt);
    expect(started).toBeGreaterThanOrEqual(Math.floor(before) - 20);
    expect(started).toBeLessThanOrEqual(Math.ceil(after) + 20);
    if ("release" in lock) await lock.release();
  });

  it("reads an old pid-only lock with a trailing newline", async () => {
    await writeLock(`${process.pid}\n`);
    expect(await acquireLock(lockFile())).toStrictEqual({
      file: lockFile(),
      heldBy: process.pid,
      holder: { pid: process.pid, host: hostname() },
    });
  });

  it.each([
    ["digits then text", `${process.pid} x`],
    ["text then digits", `x ${process.pid}`],
    ["a host that is not a string", JSON.stringify({ pid: process.pid, host: 42 })],
    [
      "a pid that is not a whole number",
      JSON.stringify({ pid: String(process.pid), host: hostname() }),
    ],
  ])("a fresh lock with %s names no holder and is held", async (_, content) => {
    await writeLock(content);
    expect(await acquireLock(lockFile())).toStrictEqual({ file: lockFile(), heldBy: -1 });
  });

  it("a start time that is not a string is left out of the holder", async () => {
    await writeLock(JSON.stringify({ pid: process.pid, host: hostname(), startedAt: 5 }));
    expect(await acquireLock(lockFile())).toStrictEqual({
      file: lockFile(),
      heldBy: process.pid,
      holder: { pid: process.pid, host: hostname() },
    });
  });

  it("an unreadable lock exactly 5 s old is still held; older is taken over", async () => {
    freezeDate();
    await writeLock("garbage");
    await utimes(lockFile(), ago(5_000), ago(5_000));
    expect(await acquireLock(lockFile())).toStrictEqual({ file: lockFile(), heldBy: -1 });
    await utimes(lockFile(), ago(5_001), ago(5_001));
    const lock = await acquireLock(lockFile());
    expect("release" in lock).toBe(true);
  });

  it("a holder that exists but is not ours to signal (EPERM) is alive", async () => {
    const kill = process.kill.bind(process);
    vi.spyOn(process, "kill").mockImplementation((pid, signal) => {
      if (pid === 4_000_001) throw Object.assign(new Error("kill EPERM"), { code: "EPERM" });
      return kill(pid, signal);
    });
    await writeLock(JSON.stringify({ pid: 4_000_001, host: hostname() }));
    expect(await acquireLock(lockFile())).toMatchObject({ heldBy: 4_000_001 });
  });

  it("release() after someone removed the lock file is fine", async () => {
    const lock = await acquireLock(lockFile());
    await rm(lockFile());
    if (!("release" in lock)) throw new Error("expected to hold the lock");
    await expect(lock.release()).resolves.toBeUndefined();
  });

  it("a lock path that is a folder is an error, not 'held'", async () => {
    await mkdir(lockFile(), { recursive: true });
    await expect(acquireLock(lockFile())).rejects.toMatchObject({ code: "EISDIR" });
  });

  describe("the takeover guard", () => {
    const guard = () => `${lockFile()}.takeover`;
    const staleLockAndGuard = async (guardAgeMs: number) => {
      const pid = await deadPid();
      await writeLock(JSON.stringify({ pid, host: hostname() }));
      await writeFile(guard(), "another taker");
      await utimes(guard(), ago(guardAgeMs), ago(guardAgeMs));
      return pid;
    };

    it("while another taker's guard is fresh, the stale lock is left to it", async () => {
      freezeDate();
      const pid = await staleLockAndGuard(10_000);
      expect(await acquireLock(lockFile())).toMatchObject({ heldBy: pid });
      expect(await readFile(guard(), "utf8")).toBe("another taker");
    });

    it("a guard older than 10 s belongs to a taker that died: removed, and the lock taken", async () => {
      freezeDate();
      await staleLockAndGuard(10_001);
      const lock = await acquireLock(lockFile());
      expect("release" in lock).toBe(true);
      expect(existsSync(guard())).toBe(false);
      expect(JSON.parse(await readFile(lockFile(), "utf8")).pid).toBe(process.pid);
    });
  });
});
