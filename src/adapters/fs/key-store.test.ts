import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConflictError, ExitCode } from "../../core/errors.js";
import { acquireLock, createKeyStore, type StoredKeys } from "./key-store.js";

const keys = (rootToken: string, storage?: string): StoredKeys => ({
  keys: ["a1", "b2", "c3"],
  keysBase64: ["oQ==", "sg==", "ww=="],
  rootToken,
  keyShares: 3,
  keyThreshold: 2,
  initializedAt: "2026-11-22T10:00:00.000Z",
  ...(storage ? { storage } : {}),
});

const mode = async (file: string) => (await stat(file)).mode & 0o777;

/** A pid that certainly belonged to a process that has exited. */
async function deadPid(): Promise<number> {
  const child = execFile(process.execPath, ["-e", ""]);
  await new Promise((resolve) => child.on("exit", resolve));
  return child.pid as number;
}

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), "vault-ha-key-store-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("key store", () => {
  it("saves with folder 0700 and file 0600, and leaves no temporary file", async () => {
    const store = createKeyStore(root, "demo");
    await store.save(keys("root-1", "dynamodb-volume:demo_dynamodb-data"));
    expect(await mode(store.dir)).toBe(0o700);
    expect(await mode(store.keysFile)).toBe(0o600);
    expect(await readdir(store.dir)).toEqual(["init.json"]);
    expect(await store.load()).toEqual(keys("root-1", "dynamodb-volume:demo_dynamodb-data"));
  });

  it("prepare() creates the file before sys/init; save() writes into it", async () => {
    const store = createKeyStore(root, "demo");
    await store.prepare();
    const [prepared] = await readdir(store.dir);
    expect(prepared).toMatch(/^init\.json\.[0-9a-f]{16}\.tmp$/);
    expect(await mode(path.join(store.dir, prepared as string))).toBe(0o600);
    // Space for the keys is claimed on disk already.
    expect((await stat(path.join(store.dir, prepared as string))).size).toBeGreaterThan(30_000);
    await Promise.all([store.prepare(), store.prepare()]);
    expect(await readdir(store.dir)).toHaveLength(1);
    await store.save(keys("root-1"));
    expect(await readdir(store.dir)).toEqual(["init.json"]);
    expect((await store.load())?.rootToken).toBe("root-1");
  });

  it("discardPrepared() and a later prepare() clean up files that never got keys", async () => {
    const store = createKeyStore(root, "demo");
    await store.prepare();
    await store.discardPrepared();
    expect(await readdir(store.dir)).toEqual([]);
    // Runs that died after prepare(): an old reservation is swept; a recent one
    // (another up may be using it) and a file with content (keys?) stay.
    const hourAgo = new Date(Date.now() - 2 * 60 * 60 * 1000);
    const file = (name: string) => path.join(store.dir, `init.json.${name}.tmp`);
    await writeFile(file("00112233445566aa"), "\n\n\n");
    await utimes(file("00112233445566aa"), hourAgo, hourAgo);
    await writeFile(file("00112233445566bb"), '{"keys": [');
    await utimes(file("00112233445566bb"), hourAgo, hourAgo);
    await writeFile(file("00112233445566cc"), "\n\n\n");
    await createKeyStore(root, "demo").prepare();
    const names = await readdir(store.dir);
    expect(names).not.toContain("init.json.00112233445566aa.tmp");
    expect(names).toContain("init.json.00112233445566bb.tmp");
    expect(names).toContain("init.json.00112233445566cc.tmp");
  });

  it("prepare() fails before sys/init when the folder cannot be written", async () => {
    // A file where the project folder should be fails for root too.
    await writeFile(path.join(root, "blocked"), "");
    await expect(createKeyStore(root, "blocked").prepare()).rejects.toBeInstanceOf(ConflictError);
    if (process.getuid?.() === 0) return; // root writes into a read-only folder
    const locked = path.join(root, "locked");
    await mkdir(locked, { mode: 0o500 });
    await expect(createKeyStore(locked, "demo").prepare()).rejects.toThrow(
      /cannot write the keys file in .*EACCES/,
    );
  });

  it("loads files written before the storage field existed", async () => {
    const store = createKeyStore(root, "demo");
    await mkdir(store.dir, { recursive: true });
    await writeFile(store.keysFile, JSON.stringify(keys("old")));
    expect(await store.load()).toEqual(keys("old"));
  });

  it("two setAsides keep both files, each saying which storage it opened", async () => {
    const store = createKeyStore(root, "demo");
    await store.save(keys("first", "dynamodb-volume:one"));
    const first = await store.setAside();
    await store.save(keys("second", "in-memory"));
    const second = await store.setAside();
    expect(first).toMatch(/init\.json\.\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z(-\d+)?\.old$/);
    expect(second).not.toBe(first);
    const old = (await readdir(store.dir)).filter((name) => name.endsWith(".old"));
    expect(old).toHaveLength(2);
    const stored = await Promise.all(
      old.map(async (name) => JSON.parse(await readFile(path.join(store.dir, name), "utf8"))),
    );
    expect(stored.map((entry) => entry.storage).sort()).toEqual([
      "dynamodb-volume:one",
      "in-memory",
    ]);
    expect(await store.load()).toBeUndefined();
    expect(await store.setAside()).toBeUndefined();
  });

  it("save() sets an existing init.json aside instead of overwriting it", async () => {
    const store = createKeyStore(root, "demo");
    await store.save(keys("first"));
    await store.save(keys("second"));
    expect((await store.load())?.rootToken).toBe("second");
    const old = (await readdir(store.dir)).filter((name) => name.endsWith(".old"));
    expect(old).toHaveLength(1);
    expect(await readFile(path.join(store.dir, old[0] as string), "utf8")).toContain("first");
  });

  it.each([
    ["not JSON", '{"rootToken": "s.SECRET-TOKEN", ', "is not valid JSON"],
    ["the wrong shape", '{"rootToken": "s.SECRET-TOKEN"}', "is not a vault-ha keys file"],
  ])(
    "a damaged init.json (%s) is a ConflictError naming the file and the fix, never its content",
    async (_, content, problem) => {
      const store = createKeyStore(root, "demo");
      await mkdir(store.dir, { recursive: true });
      await writeFile(store.keysFile, content);
      const error = await store.load().then(
        () => undefined,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(ConflictError);
      const { message, exitCode } = error as ConflictError;
      expect(exitCode).toBe(ExitCode.conflict);
      expect(message).toContain(`${store.keysFile} ${problem}`);
      expect((error as ConflictError).next).toEqual({ kind: "reset" });
      expect(message).not.toContain("SECRET");
      expect(message).not.toContain("\n");
    },
  );
});

describe("acquireLock", () => {
  const lockFile = () => path.join(root, "demo", "up.lock");

  it("a second acquirer learns who holds it and where; release frees it", async () => {
    const first = await acquireLock(lockFile());
    expect("release" in first).toBe(true);
    const second = await acquireLock(lockFile());
    expect(second).toMatchObject({ heldBy: process.pid, file: lockFile() });
    if (!("heldBy" in second)) throw new Error("expected the lock to be held");
    expect(second.holder?.host).toBe(hostname());
    expect(second.holder?.startedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    if ("release" in first) await first.release();
    const third = await acquireLock(lockFile());
    expect("release" in third).toBe(true);
    if ("release" in third) await third.release();
    expect(await readdir(path.dirname(lockFile()))).toEqual([]);
  });

  it("takes over a lock whose holder died on this host (this version's and the old pid-only form)", async () => {
    const pid = await deadPid();
    await mkdir(path.dirname(lockFile()), { recursive: true });
    for (const content of [JSON.stringify({ pid, host: hostname(), token: "x" }), String(pid)]) {
      await writeFile(lockFile(), content);
      const lock = await acquireLock(lockFile());
      expect("release" in lock).toBe(true);
      expect(JSON.parse(await readFile(lockFile(), "utf8")).pid).toBe(process.pid);
      if ("release" in lock) await lock.release();
    }
    expect(await readdir(path.dirname(lockFile()))).toEqual([]);
  });

  it("leaves a lock from another host alone", async () => {
    await mkdir(path.dirname(lockFile()), { recursive: true });
    const pid = await deadPid();
    await writeFile(lockFile(), JSON.stringify({ pid, host: "elsewhere.example", token: "x" }));
    expect(await acquireLock(lockFile())).toMatchObject({
      heldBy: pid,
      holder: { pid, host: "elsewhere.example" },
    });
  });

  it("garbage content is held while fresh and taken over once old", async () => {
    await mkdir(path.dirname(lockFile()), { recursive: true });
    await writeFile(lockFile(), "garbage");
    expect(await acquireLock(lockFile())).toMatchObject({ heldBy: -1, file: lockFile() });
    const old = new Date(Date.now() - 60_000);
    await utimes(lockFile(), old, old);
    const lock = await acquireLock(lockFile());
    expect("release" in lock).toBe(true);
    if ("release" in lock) await lock.release();
  });

  it("release() does not remove a lock that is no longer ours", async () => {
    const lock = await acquireLock(lockFile());
    const foreign = JSON.stringify({ pid: 1, host: hostname(), token: "someone-else" });
    await writeFile(lockFile(), foreign);
    if ("release" in lock) await lock.release();
    expect(await readFile(lockFile(), "utf8")).toBe(foreign);
  });

  it("of many concurrent acquirers, exactly one wins, also over a stale lock", async () => {
    await mkdir(path.dirname(lockFile()), { recursive: true });
    await writeFile(lockFile(), JSON.stringify({ pid: await deadPid(), host: hostname() }));
    const results = await Promise.all(Array.from({ length: 8 }, () => acquireLock(lockFile())));
    expect(results.filter((result) => "release" in result)).toHaveLength(1);
  });
});
