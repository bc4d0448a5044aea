import { existsSync, readdirSync, readlinkSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { storedKeys } from "../../../test/support/stored-keys.js";
import { ConflictError } from "../../core/errors.js";
import { acquireLock, createKeyStore } from "./key-store.js";

/**
 * What the key store does when the file system says no: file systems without
 * hard links, folders that cannot be flushed, a full disk, and the races a
 * lock must survive. The real node:fs/promises does the work; a hook may fail
 * a call first, or change the files at the moment a call is made.
 */
const hooks = vi.hoisted(() => ({
  link: undefined as undefined | ((from: string, to: string) => Promise<void> | void),
  copyFile: undefined as undefined | ((from: string, to: string) => void),
  open: undefined as undefined | ((file: string, flags: string) => void),
  /** Sees every FileHandle method call (file, flags it was opened with, method). */
  handle: undefined as undefined | ((file: string, flags: string, method: string) => void),
}));

vi.mock("node:fs/promises", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:fs/promises")>();
  return {
    ...real,
    link: async (from: string, to: string) => {
      await hooks.link?.(String(from), String(to));
      return real.link(from, to);
    },
    copyFile: async (from: string, to: string, mode?: number) => {
      hooks.copyFile?.(String(from), String(to));
      return real.copyFile(from, to, mode);
    },
    open: async (file: string, flags: string, mode?: number) => {
      hooks.open?.(String(file), String(flags));
      const handle = await real.open(file, flags, mode);
      return new Proxy(handle, {
        get(target, property) {
          const value = Reflect.get(target, property, target);
          if (typeof value !== "function") return value;
          return (...args: unknown[]) => {
            hooks.handle?.(String(file), String(flags), String(property));
            return value.apply(target, args);
          };
        },
      });
    },
  };
});

const keys = storedKeys();
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

const failure = (code: string) => Object.assign(new Error(`${code}: simulated`), { code });

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "vault-ha-key-store-faults-"));
});
afterEach(async () => {
  hooks.link = undefined;
  hooks.copyFile = undefined;
  hooks.open = undefined;
  hooks.handle = undefined;
  vi.useRealTimers();
  await rm(root, { recursive: true, force: true });
});

describe("durability", () => {
  it("save() flushes the keys file, then the folder after the rename", async () => {
    const store = createKeyStore(root, "demo");
    const calls: string[] = [];
    hooks.handle = (file, flags, method) => {
      if (method === "sync" || method === "close")
        calls.push(`${method} ${file === store.dir ? "folder" : path.basename(file)} ${flags}`);
    };
    await store.save(keys);
    const syncs = calls.filter((call) => call.startsWith("sync"));
    expect(syncs).toEqual([
      expect.stringMatching(/^sync init\.json\.[0-9a-f]{16}\.tmp wx$/),
      "sync folder r",
      expect.stringMatching(/^sync init\.json\.[0-9a-f]{16}\.tmp wx$/),
      "sync folder r",
    ]);
    expect(calls.filter((call) => call === "close folder r")).toHaveLength(2);
  });

  it.each(["EISDIR", "EINVAL", "EPERM"])(
    "a folder that cannot be opened for flushing (%s) is no error",
    async (code) => {
      const store = createKeyStore(root, "demo");
      hooks.open = (file, flags) => {
        if (file === store.dir && flags === "r") throw failure(code);
      };
      await store.save(keys);
      expect(await store.load()).toEqual(keys);
    },
  );

  it("any other error flushing the folder fails the save", async () => {
    const store = createKeyStore(root, "demo");
    hooks.open = (file, flags) => {
      if (file === store.dir && flags === "r") throw failure("EIO");
    };
    await expect(store.prepare()).rejects.toThrow(
      `cannot write the keys file in ${store.dir} (EIO)`,
    );
  });

  it("a full disk while reserving space: a conflict, and the half-made file is gone", async () => {
    const store = createKeyStore(root, "demo");
    hooks.handle = (_, flags, method) => {
      if (flags === "wx" && method === "write") throw failure("ENOSPC");
    };
    await expect(store.prepare()).rejects.toThrow(
      new ConflictError(
        `cannot write the keys file in ${store.dir} (ENOSPC); free disk space or fix the folder's permissions`,
        [],
        { next: { kind: "up" } },
      ),
    );
    expect(await readdir(store.dir)).toEqual([]);
  });

  it("an error without a code is reported by its message", async () => {
    const store = createKeyStore(root, "demo");
    hooks.handle = (_, flags, method) => {
      if (flags === "wx" && method === "chmod") throw new Error("quota exceeded");
    };
    await expect(store.prepare()).rejects.toThrow(
      `cannot write the keys file in ${store.dir} (quota exceeded); free disk space`,
    );
  });
});

describe("setting keys aside without hard links", () => {
  const NOW = new Date("2026-11-30T10:00:00.000Z");

  it.each(["EPERM", "ENOTSUP", "ENOSYS"])(
    "link() failing with %s: an exclusive copy instead, still never replacing a file",
    async (code) => {
      vi.useFakeTimers({ toFake: ["Date"] });
      vi.setSystemTime(NOW);
      hooks.link = (_, to) => {
        if (to.endsWith(".old")) throw failure(code);
      };
      const store = createKeyStore(root, "demo");
      await store.save({ ...keys, rootToken: "first" });
      const first = await store.setAside();
      await store.save({ ...keys, rootToken: "second" });
      const second = await store.setAside();
      const base = `${store.keysFile}.2026-11-30T10-00-00.000Z`;
      expect([first, second]).toEqual([`${base}.old`, `${base}-2.old`]);
      expect(JSON.parse(await readFile(`${base}.old`, "utf8")).rootToken).toBe("first");
      expect(JSON.parse(await readFile(`${base}-2.old`, "utf8")).rootToken).toBe("second");
      expect(existsSync(store.keysFile)).toBe(false);
    },
  );

  it("a copy that fails for another reason than an existing name fails setAside", async () => {
    const store = createKeyStore(root, "demo");
    await store.save(keys);
    hooks.link = (_, to) => {
      if (to.endsWith(".old")) throw failure("EPERM");
    };
    hooks.copyFile = () => {
      throw failure("EIO");
    };
    await expect(store.setAside()).rejects.toMatchObject({ code: "EIO" });
    expect(await store.load()).toEqual(keys);
  });

  it("any other link() error fails setAside and keeps the keys where they are", async () => {
    const store = createKeyStore(root, "demo");
    await store.save(keys);
    hooks.link = (_, to) => {
      if (to.endsWith(".old")) throw failure("EIO");
    };
    await expect(store.setAside()).rejects.toMatchObject({ code: "EIO" });
    expect(await store.load()).toEqual(keys);
  });
});

describe("lock files without hard links", () => {
  const lockFile = () => path.join(root, "demo", "up.lock");

  it.each(["EPERM", "ENOTSUP", "ENOSYS"])(
    "link() failing with %s: an exclusive create instead",
    async (code) => {
      hooks.link = (_, to) => {
        if (to === lockFile()) throw failure(code);
      };
      const lock = await acquireLock(lockFile());
      expect("release" in lock).toBe(true);
      const record = JSON.parse(await readFile(lockFile(), "utf8"));
      expect(record).toMatchObject({ pid: process.pid, host: hostname() });
      expect(await acquireLock(lockFile())).toMatchObject({ heldBy: process.pid });
      if ("release" in lock) await lock.release();
      expect(await readdir(path.dirname(lockFile()))).toEqual([]);
      expect(openFilesUnder(root)).toEqual([]);
    },
  );

  it("any other link() error fails acquireLock", async () => {
    hooks.link = (_, to) => {
      if (to === lockFile()) throw failure("EIO");
    };
    await expect(acquireLock(lockFile())).rejects.toMatchObject({ code: "EIO" });
    expect(await readdir(path.dirname(lockFile()))).toEqual([]);
  });
});

describe("lock races", () => {
  const lockFile = () => path.join(root, "demo", "up.lock");
  const guard = () => `${lockFile()}.takeover`;
  const writeLock = async (content: string, ageMs = 0) => {
    await mkdir(path.dirname(lockFile()), { recursive: true });
    await writeFile(lockFile(), content);
    const at = new Date(Date.now() - ageMs);
    await utimes(lockFile(), at, at);
  };
  /** Runs `change` once, just before the taker creates its guard. */
  const onGuard = (change: () => Promise<void>) => {
    let done = false;
    hooks.link = async (_, to) => {
      if (to !== guard() || done) return;
      done = true;
      await change();
    };
  };

  it("a lock released between the failed create and the read: try again, and win", async () => {
    let first = true;
    hooks.link = (_, to) => {
      if (to === lockFile() && first) {
        first = false;
        throw failure("EEXIST");
      }
    };
    const lock = await acquireLock(lockFile());
    expect("release" in lock).toBe(true);
  });

  it("a stale lock replaced by a fresh one (same content, new file) is not taken over", async () => {
    await writeLock("garbage", 60_000);
    onGuard(async () => {
      const fresh = `${lockFile()}.fresh`;
      await writeFile(fresh, "garbage");
      await rename(fresh, lockFile());
    });
    expect(await acquireLock(lockFile())).toStrictEqual({ file: lockFile(), heldBy: -1 });
    expect(await readFile(lockFile(), "utf8")).toBe("garbage");
  });

  it("a stale lock rewritten in place by a live holder is not taken over", async () => {
    await writeLock(JSON.stringify({ pid: 2_147_483_646, host: hostname() }));
    const live = JSON.stringify({ pid: process.pid, host: hostname(), token: "theirs" });
    onGuard(() => writeFile(lockFile(), live));
    expect(await acquireLock(lockFile())).toMatchObject({ heldBy: process.pid });
    expect(await readFile(lockFile(), "utf8")).toBe(live);
  });

  it("a stale lock removed while taking over: the next attempt simply creates it", async () => {
    await writeLock(JSON.stringify({ pid: 2_147_483_646, host: hostname() }));
    onGuard(() => rm(lockFile()));
    const lock = await acquireLock(lockFile());
    expect("release" in lock).toBe(true);
    expect(JSON.parse(await readFile(lockFile(), "utf8")).pid).toBe(process.pid);
    expect(existsSync(guard())).toBe(false);
  });

  it("an error creating the guard fails acquireLock", async () => {
    await writeLock(JSON.stringify({ pid: 2_147_483_646, host: hostname() }));
    hooks.link = (_, to) => {
      if (to === guard()) throw failure("EIO");
    };
    await expect(acquireLock(lockFile())).rejects.toMatchObject({ code: "EIO" });
  });
});
